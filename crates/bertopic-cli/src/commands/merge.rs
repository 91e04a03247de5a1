//! `bertopic merge`.

use bertopic::fs::DirPolicy;
use bertopic::variants::merge;

use crate::args::{Format, MergeArgs};
use crate::out::{self, CliResult, Out};

pub(crate) fn run(a: MergeArgs, o: Out) -> CliResult {
    if a.models.len() < 2 {
        return Err(
            "merge needs two or more models: repeat --model (the first is the base)".into(),
        );
    }
    let dirs = a
        .models
        .iter()
        .map(|m| a.registry.model_dir(m))
        .collect::<CliResult<Vec<_>>>()?;
    let policy = if a.allow_other_files {
        DirPolicy::AllowOtherFiles
    } else {
        DirPolicy::OursOnly
    };
    let done = merge::merge_job(&dirs, a.min_similarity, &a.output, policy)?;
    let m = &done.merged;
    match a.format {
        Format::Json => {
            let rows: Vec<serde_json::Value> = dirs
                .iter()
                .zip(&m.mappings)
                .zip(&m.added)
                .map(|((d, map), added)| {
                    serde_json::json!({
                        "model": d.display().to_string(),
                        "mapping": map,
                        "added": added,
                    })
                })
                .collect();
            out::println(&serde_json::to_string_pretty(&rows)?)?;
        }
        Format::Table if !o.quiet => {
            let mut s = String::from("model  topic -> merged\n");
            for (i, (map, added)) in m.mappings.iter().zip(&m.added).enumerate().skip(1) {
                for (from, to) in map.iter().filter(|(f, _)| **f >= 0) {
                    let new = if added.contains(to) { "  (added)" } else { "" };
                    s += &format!("{i:>5}  {from:>5} -> {to}{new}\n");
                }
            }
            out::println(s.trim_end())?;
        }
        Format::Table => {}
    }
    let n_added: usize = m.added.iter().map(Vec::len).sum();
    o.info(format!(
        "{} topics ({} added by the later models) from {} models; model and topic_info.csv in {}",
        m.model.n_topics(),
        n_added,
        dirs.len(),
        done.output.display()
    ));
    Ok(())
}
