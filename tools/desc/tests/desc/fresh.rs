use crate::root;

#[test]
fn every_generated_file_is_what_mall_toml_gives() {
    let mall = mall_desc::load(&root()).expect("mall.toml is valid");
    let files = mall_desc::generate_all(&root(), &mall).expect("the generated regions exist");
    let stale = mall_desc::stale(&root(), &files);
    assert!(
        stale.is_empty(),
        "stale generated files: {}\nrun `{}` and commit the result",
        stale.join(", "),
        mall_desc::GENERATOR
    );
}

#[test]
fn the_template_includes_the_snippets_and_holds_its_own_locations() {
    let mall = mall_desc::load(&root()).expect("mall.toml is valid");
    let template = std::fs::read_to_string(root().join("nginx/nginx.conf.template"))
        .expect("nginx.conf.template is readable");
    for include in [
        "snippets/routes-public.conf",
        "snippets/routes-internal.conf",
    ] {
        assert!(
            template.contains(&format!("include {include};")),
            "nginx.conf.template does not include {include}"
        );
    }
    for l in mall.locations.iter().filter(|l| l.template) {
        let m = l.matcher().expect("validated");
        let head = format!("location {} {} {{", m.modifier(), m.path());
        assert!(
            template.contains(&head),
            "mall.toml says `{head}` is in nginx.conf.template, which lacks it"
        );
    }
}
