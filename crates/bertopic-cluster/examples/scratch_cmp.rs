use bertopic_cluster::{metrics::adjusted_rand_index, FittedClusterer, Hdbscan, HdbscanParams};
fn main() {
    for n in [10000, 20000] {
        let txt = std::fs::read_to_string(format!("/tmp/bench{n}.csv")).unwrap();
        let flat: Vec<f64> = txt.lines().flat_map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect::<Vec<_>>()).collect();
        let want: Vec<i64> = std::fs::read_to_string(format!("/tmp/bench{n}_labels.csv")).unwrap().lines().map(|l| l.parse().unwrap()).collect();
        let x = ndarray::Array2::from_shape_vec((n, 5), flat).unwrap();
        let t = std::time::Instant::now();
        let f = Hdbscan::new(HdbscanParams::default()).unwrap().fit_concrete(x.view()).unwrap();
        let el = t.elapsed();
        let out = f.labels().iter().filter(|&&l| l == -1).count();
        let (p, _) = f.predict(x.view()).unwrap();
        let cl: Vec<usize> = (0..n).filter(|&i| f.labels()[i] >= 0).collect();
        let agree = cl.iter().filter(|&&i| p[i] == f.labels()[i]).count() as f64 / cl.len() as f64;
        println!("n {n}: {:?}, ARI vs python {:.4}, clusters {}, outliers {out}, predict agree {agree:.4}", el, adjusted_rand_index(f.labels(), &want), f.n_clusters());
    }
}
