//! The `best` quality preset (#22) on the shared 200-abstract arXiv sample with its precomputed
//! MiniLM embeddings: it does what it promises (outliers whose embedding is close enough to a
//! topic join that topic, the rest stay outliers, clustered documents keep their topic, NMI
//! against the arXiv labels is not worse), it is saved with the model, and the default preset
//! leaves the pipeline and the saved model exactly as before presets existed.
//!
//! The measurement behind the preset (both shared corpora, several seeds) is
//! `examples/quality_presets.rs`; these are the cheap checks of its mechanics.

use bertopic::cluster::metrics::normalized_mutual_info;
use bertopic::represent::cosine;
use bertopic::{Bertopic, OutlierStrategy, QualityPreset, TopicModel};

mod support;
use support::{arxiv_sample, class_ids, Sample};

/// The sample with its labels as class ids.
fn sample() -> (Sample, Vec<i64>) {
    let s = arxiv_sample();
    let ids = class_ids(&s.labels);
    (s, ids)
}

fn fit(s: &Sample, preset: QualityPreset) -> TopicModel {
    Bertopic::builder()
        .min_topic_size(5)
        .seed(42)
        .quality(preset)
        .build()
        .expect("valid parameters")
        .fit_with_embeddings(&s.docs, s.embeddings.clone())
        .expect("fit")
}

#[test]
fn best_preset_moves_only_close_outliers_and_keeps_nmi() {
    let (s, labels) = sample();
    let mut plain = fit(&s, QualityPreset::Default);
    let best = fit(&s, QualityPreset::Best);
    assert_eq!(best.params().quality, QualityPreset::Best);
    let steps = QualityPreset::Best.post_fit();
    let reduction = steps.outliers.expect("the best preset reduces outliers");
    assert_eq!(reduction.strategy, OutlierStrategy::Embeddings);
    // The sample's fit has few outliers (how many depends on UMAP's details), so every 8th
    // clustered document is made an outlier too: the rule below is then exercised on
    // documents both near to and far from the topics, whatever the fit.
    let mut topics = plain.document_topics().to_vec();
    for (k, t) in topics.iter_mut().filter(|t| **t >= 0).enumerate() {
        if k.is_multiple_of(8) {
            *t = -1;
        }
    }
    plain.update_topics(&s.docs, &topics).unwrap();
    // A copy of the model, through a save (a fitted model holds boxed stages, not Clone).
    let tmp = tempfile::tempdir().unwrap();
    plain.save(&tmp.path().join("m")).unwrap();
    let mut after_model = TopicModel::load(&tmp.path().join("m")).unwrap();
    after_model.apply_post_fit(&s.docs, &steps).unwrap();
    let after = after_model.document_topics();

    let before = plain.document_topics();
    let n_out = |t: &[i64]| t.iter().filter(|&&x| x < 0).count();
    assert!(n_out(before) > 0, "the sample's default fit has outliers");
    assert!(
        n_out(after) < n_out(before),
        "outliers {} -> {}",
        n_out(before),
        n_out(after)
    );

    // The rule, checked against the default fit's own topic embeddings: an outlier joins its
    // most cosine-similar topic when that similarity reaches the threshold; nothing else moves.
    let ids: Vec<i64> = plain.topics().iter().map(|t| t.id).collect();
    let te = plain.topic_embeddings();
    let (mut moved, mut kept) = (0, 0);
    for (i, (&b, &a)) in before.iter().zip(after).enumerate() {
        if b >= 0 {
            assert_eq!(a, b, "document {i} was clustered and must keep its topic");
            continue;
        }
        let (best_id, sim) = ids
            .iter()
            .zip(te.outer_iter())
            .filter(|(&id, _)| id >= 0)
            .map(|(&id, row)| (id, cosine(s.embeddings.row(i), row)))
            .fold(
                (-1, f64::NEG_INFINITY),
                |acc, x| if x.1 > acc.1 { x } else { acc },
            );
        if sim >= reduction.threshold {
            assert_eq!(
                a, best_id,
                "outlier {i} (cosine {sim:.3}) joins topic {best_id}"
            );
            moved += 1;
        } else {
            assert_eq!(a, -1, "outlier {i} (cosine {sim:.3}) stays an outlier");
            kept += 1;
        }
    }
    assert!(moved > 0, "some outliers were close enough to move");
    eprintln!("moved {moved}, kept {kept} outliers");

    // Topic words were refitted on the new assignment (sizes follow the documents).
    for t in after_model.topics() {
        let size = after.iter().filter(|&&x| x == t.id).count();
        assert_eq!(t.count, size, "topic {} size", t.id);
    }

    let nmi_plain = normalized_mutual_info(before, &labels);
    let nmi_best = normalized_mutual_info(after, &labels);
    assert!(
        nmi_best >= nmi_plain,
        "NMI against the labels fell: {nmi_plain:.4} -> {nmi_best:.4}"
    );
}

#[test]
fn preset_is_saved_and_the_default_leaves_saved_models_unchanged() {
    let (s, _) = sample();
    let tmp = tempfile::tempdir().unwrap();
    let json = |m: &TopicModel, name: &str| -> serde_json::Value {
        let dir = tmp.path().join(name);
        m.save(&dir).unwrap();
        serde_json::from_slice(&std::fs::read(dir.join("model.json")).unwrap()).unwrap()
    };
    let plain = fit(&s, QualityPreset::Default);
    let v = json(&plain, "plain");
    assert!(
        v["params"].get("quality").is_none(),
        "the default preset is not written (older readers see the model as before)"
    );
    assert!(!v["params"]["ctfidf"]["reduce_frequent_words"]
        .as_bool()
        .unwrap());

    let best = fit(&s, QualityPreset::Best);
    let v = json(&best, "best");
    assert_eq!(v["params"]["quality"], "best");
    let loaded = TopicModel::load(&tmp.path().join("best")).unwrap();
    assert_eq!(loaded.params().quality, QualityPreset::Best);
    assert_eq!(loaded.document_topics(), best.document_topics());
    assert_eq!(
        TopicModel::load(&tmp.path().join("plain"))
            .unwrap()
            .params()
            .quality,
        QualityPreset::Default
    );
}

#[test]
fn preset_names_parse_and_online_refuses_best() {
    assert_eq!(
        "best".parse::<QualityPreset>().unwrap(),
        QualityPreset::Best
    );
    assert_eq!(
        " Default ".parse::<QualityPreset>().unwrap(),
        QualityPreset::Default
    );
    let e = "fast".parse::<QualityPreset>().unwrap_err().to_string();
    assert!(e.contains("\"default\" or \"best\""), "{e}");
    assert!(QualityPreset::Default.post_fit().is_noop());

    let refused = Bertopic::builder()
        .online(Default::default())
        .quality(QualityPreset::Best)
        .build();
    let Err(err) = refused else {
        panic!("online + best must be refused")
    };
    assert!(err.to_string().contains("online"), "{err}");
}
