//! Reads every shared corpus and checks the counts against an independent csv-crate count.

use bertopic_preprocess::{read_corpus, records, ReadOptions};

use bertopic_testdata::shared_dir as shared;

#[test]
fn every_shared_corpus() {
    let dir = shared().join("data");
    // Row counts stated in data/README.md.
    for (name, stated) in [
        ("arxiv-cs-abstracts.csv", 20_000),
        ("arxiv-cs-abstracts-200.csv", 200),
        ("sotu-chunks.csv", 10_598),
        ("sotu-chunks-200.csv", 200),
    ] {
        let path = dir.join(name);
        // Independent count with the csv crate.
        let mut rdr = csv::Reader::from_path(&path).unwrap();
        let independent = rdr.records().count();
        assert_eq!(independent, stated, "{name}");
        let (docs, summary) = read_corpus(&path, &ReadOptions::default()).unwrap();
        assert_eq!(summary.records_read, stated, "{name}");
        assert!(summary.skipped_bad.is_empty(), "{name}");
        assert!(
            summary.dropped_empty.is_empty(),
            "{name}: README says no empty Title/Abstract"
        );
        assert_eq!(
            summary.kept + summary.dropped_duplicate.len(),
            stated,
            "{name}"
        );
        assert_eq!(docs.len(), summary.kept);
        assert!(docs
            .iter()
            .all(|d| d.date.is_some() && d.label.is_some() && !d.text.is_empty()));
        // Rows are 1-based and increasing.
        assert!(docs.windows(2).all(|w| w[0].row < w[1].row));
        assert_eq!(docs[0].row, 1);
        let streamed = records(&path, &ReadOptions::default()).unwrap().count();
        assert_eq!(streamed, stated);
        println!("{summary}");
    }
}

#[test]
fn first_row_is_title_plus_abstract() {
    let path = shared().join("data/arxiv-cs-abstracts-200.csv");
    let mut rdr = csv::Reader::from_path(&path).unwrap();
    let rec = rdr.records().next().unwrap().unwrap();
    let (docs, _) = read_corpus(
        &path,
        &ReadOptions {
            clean: false,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(docs[0].text, format!("{} {}", &rec[0], &rec[1]));
    assert_eq!(docs[0].label.as_deref(), Some(&rec[2]));
    assert_eq!(docs[0].date.as_deref(), Some(&rec[3]));
}
