# nginx's error log passes through this filter (the edge image's entry point and
# scripts/dev start nginx with its error log on a pipe to it):
# - nginx writes a request's line, query included, as the context of an error about that
#   request; the value of every credential-like query parameter is withheld, as in the
#   access log (snippets/access-log.conf);
# - a stopped slot has no name in Docker's DNS and nginx logs that every second (any
#   "could not be resolved" line counts): the first
#   such line per name is kept, then one in 600 with the count.
function mask(line,    low, out, m, eq) {
    low = tolower(line)
    out = ""
    while (match(low, /[?&;](access_token|refresh_token|id_token|token|jwt|bearer|password|passwd|pwd|secret|client_secret|api_key|apikey|key|signature|sig|session|sessionid|code|auth|authorization|card|card_token)=[^&; "]+/)) {
        m = substr(line, RSTART, RLENGTH)
        eq = index(m, "=")
        out = out substr(line, 1, RSTART - 1) substr(m, 1, eq) "[withheld]"
        line = substr(line, RSTART + RLENGTH)
        low = substr(low, RSTART + RLENGTH)
    }
    return out line
}
/ could not be resolved \(/ {
    name = $0
    sub(/ could not be resolved.*/, "", name)
    sub(/.* /, "", name)
    n = ++seen[name]
    if (n == 1) { print mask($0); fflush(); next }
    if (n % 600 == 0) { print mask($0) " (" n " times since nginx started; the slot is stopped)"; fflush() }
    next
}
{ print mask($0); fflush() }
