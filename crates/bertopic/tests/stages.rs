//! Caller-supplied stages: a custom topic-word representer on a fitted model, a search
//! (`tune_with_stages`) over a clusterer other than HDBSCAN, and a model fitted with a caller's
//! reducer and clusterer saved and loaded with and without their loaders. Synthetic
//! embeddings: no model.

use bertopic::cluster::{ClusterError, Clusterer, FittedClusterer, KMeans, KMeansParams};
use bertopic::ndarray::{Array2, ArrayView2};
use bertopic::reduce::{FittedReducer, ReduceError, Reducer};
use bertopic::represent::{RepresentError, RepresentInput};
use bertopic::tune::{self, TuneParams, TuneStages};
use bertopic::{
    Bertopic, BertopicParams, PredictOptions, PredictStrategy, Representer, StageLoaders,
    TopicModel,
};

fn corpus() -> (Vec<String>, Array2<f32>) {
    let subjects = [
        ["rocket", "orbit", "moon", "launch", "astronaut"],
        ["oil", "gas", "energy", "price", "barrel"],
        ["goal", "match", "team", "league", "football"],
    ];
    let docs: Vec<String> = (0..90)
        .map(|i| {
            let w = &subjects[i % 3];
            format!(
                "the {} and the {} of the {}",
                w[i % 5],
                w[(i / 3) % 5],
                w[(i / 7) % 5]
            )
        })
        .collect();
    let embeddings = Array2::from_shape_fn((90, 12), |(i, j)| {
        let subject = if j % 3 == i % 3 { 1.0 } else { 0.0 };
        subject + ((i * 31 + j * 17) % 13) as f32 * 0.01
    });
    (docs, embeddings)
}

/// Keeps the c-TF-IDF order but shouts the words: easy to tell from the default.
struct Shout;

impl Representer for Shout {
    fn name(&self) -> &str {
        "shout"
    }
    fn needs_embedder(&self) -> bool {
        false
    }
    fn words(&self, input: &RepresentInput<'_>) -> Result<Vec<Vec<(String, f64)>>, RepresentError> {
        Ok(input
            .representation
            .words
            .iter()
            .map(|ws| ws.iter().map(|(w, s)| (w.to_uppercase(), *s)).collect())
            .collect())
    }
}

#[test]
fn a_custom_representer_replaces_the_words_and_keeps_the_topics() {
    let (docs, embeddings) = corpus();
    let mut model = Bertopic::builder()
        .min_topic_size(10)
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, embeddings)
        .unwrap();
    let before: Vec<(i64, Vec<String>)> = model
        .topics()
        .iter()
        .map(|t| (t.id, t.words.iter().map(|(w, _)| w.clone()).collect()))
        .collect();
    let assigned = model.document_topics().to_vec();
    model.represent_with(&docs, &Shout).unwrap();
    assert_eq!(model.document_topics(), &assigned[..]);
    for (t, (id, words)) in model.topics().iter().zip(&before) {
        assert_eq!(t.id, *id);
        let now: Vec<String> = t.words.iter().map(|(w, _)| w.clone()).collect();
        let shouted: Vec<String> = words.iter().map(|w| w.to_uppercase()).collect();
        assert_eq!(now, shouted);
    }
    // Another corpus is refused, as for every edit that refits words.
    let mut other = docs.clone();
    other.swap(0, 1);
    assert!(model.represent_with(&other, &Shout).is_err());
}

#[test]
fn tuning_runs_the_given_clusterer() {
    let (docs, embeddings) = corpus();
    let base = BertopicParams::default().check().unwrap();
    // k-means with k = the trial's min_topic_size / 4 (3 for 12, 4 for 16): the search must
    // reach the caller's stage, whose topic counts HDBSCAN would not give.
    let stages = TuneStages {
        clusterer: Box::new(|p: &bertopic::CheckedParams| {
            let k = KMeans::new(KMeansParams {
                n_clusters: p.min_topic_size / 4,
                seed: p.seed,
                ..KMeansParams::default()
            })?;
            Ok(Box::new(k) as Box<dyn Clusterer>)
        }),
        ..TuneStages::default()
    };
    let search = TuneParams {
        min_cluster_sizes: Some(vec![12, 16]),
        max_trials: None,
        ..TuneParams::default()
    };
    let out =
        tune::tune_with_stages(&base, &search, &docs, &embeddings, None, &stages, |_| {}).unwrap();
    let topics: Vec<usize> = out
        .experiment
        .trials
        .iter()
        .map(|t| t.metrics.n_topics)
        .collect();
    assert_eq!(topics, vec![3, 4]);
    // A bad grid value fails the search before any work, naming the field.
    let bad = TuneParams {
        n_neighbors: vec![1],
        ..search
    };
    let err = tune::tune_with_stages(&base, &bad, &docs, &embeddings, None, &stages, |_| {})
        .err()
        .expect("n_neighbors 1 is refused");
    assert!(
        matches!(&err, bertopic::BertopicError::Param(e) if e.field() == "umap.n_neighbors"),
        "{err}"
    );
}

/// A caller's reducer: exact PCA saved under its own kind, `"my-pca"`.
struct MyPca(bertopic::reduce::Pca);

struct MyFittedPca(Box<dyn FittedReducer>);

impl Reducer for MyPca {
    fn fit(
        &self,
        data: ArrayView2<f32>,
    ) -> Result<(Box<dyn FittedReducer>, Array2<f32>), ReduceError> {
        let (fitted, reduced) = self.0.fit(data)?;
        Ok((Box::new(MyFittedPca(fitted)), reduced))
    }
}

impl FittedReducer for MyFittedPca {
    fn transform(&self, data: ArrayView2<f32>) -> Result<Array2<f32>, ReduceError> {
        self.0.transform(data)
    }
    fn n_components(&self) -> usize {
        self.0.n_components()
    }
    fn save_state(&self) -> bertopic::reduce::SavedState {
        let mut s = self.0.save_state();
        s.kind = "my-pca".into();
        s
    }
}

/// A caller's clusterer: k-means saved under its own kind, `"my-kmeans"`.
struct MyKMeans(KMeans);

struct MyFittedKMeans(Box<dyn FittedClusterer>);

impl Clusterer for MyKMeans {
    fn fit(&self, data: ArrayView2<f64>) -> Result<Box<dyn FittedClusterer>, ClusterError> {
        Ok(Box::new(MyFittedKMeans(self.0.fit(data)?)))
    }
}

impl FittedClusterer for MyFittedKMeans {
    fn labels(&self) -> &[i64] {
        self.0.labels()
    }
    fn probabilities(&self) -> &[f64] {
        self.0.probabilities()
    }
    fn n_clusters(&self) -> usize {
        self.0.n_clusters()
    }
    fn predict(&self, data: ArrayView2<f64>) -> Result<(Vec<i64>, Vec<f64>), ClusterError> {
        self.0.predict(data)
    }
    fn save_state(&self) -> bertopic::cluster::SavedState {
        let mut s = self.0.save_state();
        s.kind = "my-kmeans".into();
        s
    }
}

fn my_pca() -> MyPca {
    MyPca(
        bertopic::reduce::Pca::new(bertopic::reduce::PcaParams {
            n_components: 4,
            ..Default::default()
        })
        .unwrap(),
    )
}

fn my_loaders() -> StageLoaders {
    StageLoaders::new()
        .reducer("my-pca", |state, _rows| {
            let mut s = state.clone();
            s.kind = "pca".into();
            Ok(Box::new(MyFittedPca(bertopic::reduce::load_state(&s)?)) as Box<dyn FittedReducer>)
        })
        .clusterer("my-kmeans", |state| {
            let mut s = state.clone();
            s.kind = "kmeans".into();
            Ok(Box::new(MyFittedKMeans(bertopic::cluster::load_state(&s)?))
                as Box<dyn FittedClusterer>)
        })
}

/// New documents: training embeddings moved off their rows, so neither strategy can look them
/// up as known documents.
fn new_points(embeddings: &Array2<f32>) -> (Vec<String>, Array2<f32>) {
    let moved = Array2::from_shape_fn((30, embeddings.ncols()), |(i, j)| {
        embeddings[[i * 3 % 90, j]] + ((i * 7 + j * 5) % 11) as f32 * 0.03
    });
    (vec![String::new(); 30], moved)
}

type Predicted = (Vec<i64>, Vec<f64>);

fn predict(model: &TopicModel, emb: &Array2<f32>) -> (Predicted, Predicted) {
    let (docs, emb) = new_points(emb);
    let with = |s| {
        model
            .transform_embeddings_with(&docs, &emb, &PredictOptions::with_strategy(s))
            .unwrap()
    };
    (with(PredictStrategy::Knn), with(PredictStrategy::Umap))
}

#[test]
fn a_model_with_caller_stages_loads_with_their_loaders_or_falls_back() {
    let (docs, embeddings) = corpus();
    let kmeans = KMeans::new(KMeansParams {
        n_clusters: 3,
        seed: 7,
        ..KMeansParams::default()
    })
    .unwrap();
    let fitted = Bertopic::builder()
        .min_topic_size(10)
        .reducer(Box::new(my_pca()))
        .clusterer(Box::new(MyKMeans(kmeans)))
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, embeddings.clone())
        .unwrap();
    assert!(fitted.stage_notice().is_none());
    let (knn, umap) = predict(&fitted, &embeddings);
    let dir = tempfile::tempdir().unwrap();
    let saved = dir.path().join("custom");
    fitted.save(&saved).unwrap();

    // With the loaders: the caller's stages come back and predict as before the save.
    let loaded = TopicModel::load_with(&saved, &my_loaders()).unwrap();
    assert!(loaded.stage_notice().is_none());
    assert_eq!(predict(&loaded, &embeddings), (knn.clone(), umap.clone()));
    assert_eq!(loaded.topic_info(), fitted.topic_info());

    // Without: the model loads whole but for its stages, and says so.
    let plain = TopicModel::load(&saved).unwrap();
    let notice = plain
        .stage_notice()
        .expect("a notice for the unknown kinds");
    assert_eq!(notice.reducer.as_deref(), Some("my-pca"));
    assert_eq!(notice.clusterer.as_deref(), Some("my-kmeans"));
    let text = notice.to_string();
    assert!(
        text.contains("\"my-pca\"") && text.contains("load_with"),
        "{text}"
    );
    assert_eq!(plain.topic_info(), fitted.topic_info());
    let (plain_knn, plain_umap) = predict(&plain, &embeddings);
    // The neighbour vote needs neither stage: unchanged.
    assert_eq!(plain_knn, knn);
    // UMAP + clusterer falls back to the nearest topic embedding, as for merged models.
    let (_, new_emb) = new_points(&embeddings);
    let (t, p) = plain.transform_light(&new_emb).unwrap();
    let light: Vec<f64> = p.into_iter().map(|s| s.clamp(0.0, 1.0)).collect();
    assert_eq!(plain_umap, (t, light));
    assert!(plain_umap.0.iter().all(|&t| t >= 0));

    // A save of the fallen-back model keeps the stages' states: the loaders still rebuild them.
    let resaved = dir.path().join("resaved");
    plain.save(&resaved).unwrap();
    let back = TopicModel::load_with(&resaved, &my_loaders()).unwrap();
    assert!(back.stage_notice().is_none());
    assert_eq!(predict(&back, &embeddings), (knn, umap));

    // Only one loader: the notice names only the other stage.
    let half = StageLoaders::new().reducer("my-pca", |state, _| {
        let mut s = state.clone();
        s.kind = "pca".into();
        bertopic::reduce::load_state(&s)
    });
    let partial = TopicModel::load_with(&saved, &half).unwrap();
    let notice = partial.stage_notice().unwrap();
    assert_eq!(
        (notice.reducer.as_deref(), notice.clusterer.as_deref()),
        (None, Some("my-kmeans"))
    );
}

#[test]
fn a_failing_loader_is_an_error_not_a_fallback() {
    let (docs, embeddings) = corpus();
    let fitted = Bertopic::builder()
        .min_topic_size(10)
        .reducer(Box::new(my_pca()))
        .build()
        .unwrap()
        .fit_with_embeddings(&docs, embeddings)
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    fitted.save(dir.path()).unwrap();
    let broken = StageLoaders::new().reducer("my-pca", |_, _| {
        Err(ReduceError::BadState("this loader refuses".into()))
    });
    let err = TopicModel::load_with(dir.path(), &broken).unwrap_err();
    assert!(err.to_string().contains("this loader refuses"), "{err}");
}
