//! `bertopic report`.

use bertopic::preprocess::ReadOptions;
use bertopic::report::html::{self, ReportJob, ReportOptions};

use crate::args::ReportArgs;
use crate::out::{CliResult, Out};

pub(crate) fn run(a: ReportArgs, o: Out) -> CliResult {
    let job = ReportJob {
        model: a.registry.model_dir(&a.model)?,
        input: a.input.clone(),
        read: ReadOptions {
            text_columns: a.text_columns.clone(),
            ..ReadOptions::default()
        },
        output: a.output.clone(),
        options: ReportOptions {
            nr_bins: a.nr_bins,
            ..ReportOptions::default()
        },
    };
    let r = html::run(&job)?;
    for s in &r.skipped {
        o.detail(format!("not drawn: {s}"));
    }
    o.info(format!(
        "report with {} sections ({:.1} MB) written to {} in {:.2} s",
        r.sections.len(),
        r.bytes as f64 / 1e6,
        a.output.display(),
        r.seconds
    ));
    Ok(())
}
