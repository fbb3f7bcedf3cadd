//! The demo catalog `scripts/dev up` loads into an empty database, so a newcomer sees a
//! shop: five categories, ten products each, with image paths the storefront serves.

use mysql_async::Pool;

use crate::domain::ProductInput;
use crate::storage::products;

const CATALOG: [(&str, [&str; 10]); 5] = [
    (
        "Kitchen",
        [
            "Kettle",
            "Chef Knife",
            "Cast Iron Pan",
            "Coffee Grinder",
            "Rice Cooker",
            "Teapot",
            "Cutting Board",
            "Mixing Bowls",
            "Whisk",
            "Toaster",
        ],
    ),
    (
        "Books",
        [
            "Rust in Action",
            "The Pragmatic Programmer",
            "Designing Data-Intensive Applications",
            "Clean Architecture",
            "Site Reliability Engineering",
            "The Art of SQL",
            "Network Programming",
            "Refactoring",
            "Domain-Driven Design",
            "Release It",
        ],
    ),
    (
        "Electronics",
        [
            "Wireless Earbuds",
            "Mechanical Keyboard",
            "USB-C Hub",
            "Portable Charger",
            "Bluetooth Speaker",
            "Webcam",
            "Desk Lamp",
            "Smart Plug",
            "Mouse",
            "Monitor Stand",
        ],
    ),
    (
        "Garden",
        [
            "Watering Can",
            "Pruning Shears",
            "Seed Starter Kit",
            "Garden Gloves",
            "Hose Nozzle",
            "Planter Box",
            "Compost Bin",
            "Trowel",
            "Bird Feeder",
            "Solar Lantern",
        ],
    ),
    (
        "Toys",
        [
            "Building Blocks",
            "Puzzle 1000",
            "Wooden Train",
            "Kite",
            "Yo-Yo",
            "Board Game",
            "Plush Bear",
            "Card Deck",
            "Spinning Top",
            "Marble Run",
        ],
    ),
];

/// Loads the demo catalog when there is no product yet; returns how many it added.
pub async fn load_if_empty(pool: &Pool) -> anyhow::Result<usize> {
    if !products::is_empty(pool).await? {
        return Ok(0);
    }
    let mut n = 0;
    for (ci, (category, names)) in CATALOG.iter().enumerate() {
        for (i, name) in names.iter().enumerate() {
            let slug: String = name
                .to_lowercase()
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            let price = 5_000 + i64::try_from((ci * 10 + i) * 3_700 % 95_000).unwrap_or(0);
            let input = ProductInput {
                name: (*name).to_owned(),
                description: format!(
                    "A fine {} from our {} collection.",
                    name.to_lowercase(),
                    category.to_lowercase()
                ),
                price: price - price % 100,
                stock: Some(i64::try_from(20 + (i * 7) % 80).unwrap_or(20)),
                category: (*category).to_owned(),
                image_url: Some(format!("/images/products/{slug}.svg")),
                currency: "KRW".to_owned(),
            };
            products::insert(pool, &input).await?;
            n += 1;
        }
    }
    Ok(n)
}
