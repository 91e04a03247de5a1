//! The facade's modules import each other without circles (#13): a circle means two modules
//! can only be understood, changed and tested together. The graph is read from the sources:
//! an edge a → b for every `crate::b` path (and `super::b` from a submodule) outside comments
//! and `#[cfg(test)] mod tests`; submodules count as their top-level module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

fn top_level_modules(src: &Path) -> BTreeMap<String, Vec<std::path::PathBuf>> {
    let mut mods: BTreeMap<String, Vec<std::path::PathBuf>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).expect("read src dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            if p.extension().and_then(|x| x.to_str()) != Some("rs") {
                continue;
            }
            let rel = p.strip_prefix(src).expect("under src");
            let first = rel.components().next().expect("a component");
            let name = first
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_string();
            if name != "lib" {
                mods.entry(name).or_default().push(p);
            }
        }
    }
    mods
}

/// Module names after `prefix` (e.g. `crate::`), including those in `use crate::{a, b::c}`.
fn referenced(code: &str, mods: &BTreeMap<String, Vec<std::path::PathBuf>>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            out.extend(inner.split(',').map(|t| ident(t.trim())));
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| mods.contains_key(m));
    out
}

#[test]
fn facade_modules_import_each_other_without_circles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mods = top_level_modules(&src);
    assert!(
        mods.len() > 10,
        "found only {} modules in {src:?}",
        mods.len()
    );
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (name, files) in &mods {
        for f in files {
            let text = std::fs::read_to_string(f).expect("read source");
            let text = match text.find("#[cfg(test)]\nmod tests") {
                Some(i) => &text[..i],
                None => &text[..],
            };
            let code: String = text
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            let mut deps = referenced(&code, &mods);
            // `super::x` in a submodule of `name` names a sibling inside `name`: not an edge.
            deps.remove(name);
            edges.entry(name.clone()).or_default().extend(deps);
        }
    }
    // Depth-first search for a back edge; report the circle it closes.
    fn visit(
        m: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        state.insert(m.to_string(), 1);
        path.push(m.to_string());
        for d in edges.get(m).into_iter().flatten() {
            match state.get(d.as_str()).copied().unwrap_or(0) {
                1 => {
                    let start = path.iter().position(|p| p == d).unwrap_or(0);
                    let mut circle = path[start..].to_vec();
                    circle.push(d.clone());
                    return Some(circle);
                }
                0 => {
                    if let Some(c) = visit(d, edges, state, path) {
                        return Some(c);
                    }
                }
                _ => {}
            }
        }
        path.pop();
        state.insert(m.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    for m in mods.keys() {
        if state.get(m.as_str()).copied().unwrap_or(0) == 0 {
            if let Some(circle) = visit(m, &edges, &mut state, &mut Vec::new()) {
                panic!("import circle in the facade: {}", circle.join(" → "));
            }
        }
    }
    let n_edges: usize = edges.values().map(BTreeSet::len).sum();
    assert!(
        n_edges > 20,
        "only {n_edges} edges found: is the parser still reading `crate::` paths?"
    );
}
