//! The console's files: `crates/weft-server/console/`, embedded in the binary at build
//! time (no Node toolchain, no CDN: the pages work offline), served at `/` (the page)
//! and `/console/{path}` (scripts, styles and the vendored libraries listed with their
//! versions and licences in `console/vendor/VENDORED.md`).
//!
//! Owns: the embedded folder and the content type of each file. Promises: only embedded
//! files are served (a path that names none is 404); nothing is read from the disk at
//! run time.

use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(rust_embed::RustEmbed)]
#[folder = "console/"]
struct Console;

/// `GET /`: the console's page.
pub async fn index() -> Response {
    serve("index.html")
}

/// `GET /console/{path}`.
pub async fn file(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    match Console::get(path) {
        Some(file) => {
            let headers = [
                (header::CONTENT_TYPE, content_type(path)),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ];
            (headers, file.data.into_owned()).into_response()
        }
        None => (StatusCode::NOT_FOUND, "no such file in the console\n").into_response(),
    }
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        _ => "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::Console;

    #[test]
    fn the_page_and_its_libraries_are_embedded() {
        for path in [
            "index.html",
            "vendor/cytoscape/cytoscape.min.js",
            "vendor/codemirror/lib/codemirror.js",
        ] {
            assert!(Console::get(path).is_some_and(|f| !f.data.is_empty()), "{path} missing");
        }
        assert!(Console::get("../Cargo.toml").is_none());
    }
}
