//! `cargo xtask readme`: copies the tables of the last runs into README.md, between its
//! `<!-- NAME:start -->` and `<!-- NAME:end -->` markers. The only command that writes README.md:
//! `test` and `bench` write their tables under `target/` only.

use anyhow::{Context, Result, anyhow, bail};
use crate::workspace::root;

/// (marker name, table file under the repository, the command that writes it).
const SECTIONS: [(&str, &str, &str); 2] = [
    ("interop", crate::interop::TABLE, "cargo xtask test"),
    ("bench", crate::bench::TABLE, "cargo xtask bench"),
];

pub fn update() -> Result<()> {
    let path = root().join("README.md");
    let mut readme = std::fs::read_to_string(&path).with_context(|| path.display().to_string())?;
    let mut updated = 0;
    for (name, file, command) in SECTIONS {
        match std::fs::read_to_string(root().join(file)) {
            Ok(table) => {
                readme = replace_section(&readme, name, &table)?;
                updated += 1;
                println!("README.md: the {name} table from {file}");
            }
            Err(_) => println!("README.md: the {name} table left as it is: no {file} (run `{command}` first)"),
        }
    }
    if updated == 0 {
        bail!("no table to copy: run `cargo xtask test` or `cargo xtask bench` first");
    }
    std::fs::write(&path, readme).with_context(|| path.display().to_string())
}

/// `readme` with what stands between the markers of `name` replaced by `content`.
fn replace_section(readme: &str, name: &str, content: &str) -> Result<String> {
    let (start, end) = (format!("<!-- {name}:start -->"), format!("<!-- {name}:end -->"));
    match (readme.find(&start), readme.find(&end)) {
        (Some(a), Some(b)) if a < b => Ok(format!("{}{start}\n{content}{}", &readme[..a], &readme[b..])),
        _ => Err(anyhow!("README.md has no {start} ... {end}")),
    }
}

#[cfg(test)]
mod tests {
    use super::replace_section;

    #[test]
    fn replaces_only_between_the_markers() {
        let readme = "a\n<!-- t:start -->\nold\n<!-- t:end -->\nb\n";
        assert_eq!(replace_section(readme, "t", "new\n").unwrap(), "a\n<!-- t:start -->\nnew\n<!-- t:end -->\nb\n");
        assert!(replace_section(readme, "other", "x").is_err());
        assert!(replace_section("<!-- t:end --> <!-- t:start -->", "t", "x").is_err(), "markers out of order");
    }
}
