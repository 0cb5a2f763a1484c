//! The README's rust blocks, as the README-app tests compare them with the
//! files under `tests/readme/`.

/// The README's first `rust,no_run` block under `heading`, without the
/// lines rustdoc hides (`# ...`).
pub(crate) fn readme_block(heading: &str) -> String {
    let readme = include_str!("../../README.md");
    let section = &readme[readme.find(heading).unwrap()..];
    let start = section.find("```rust,no_run\n").unwrap() + "```rust,no_run\n".len();
    let end = start + section[start..].find("\n```\n").unwrap();
    section[start..end]
        .lines()
        .filter(|l| !l.starts_with("# ") && *l != "#")
        .map(|l| format!("{l}\n"))
        .collect()
}
