//! The topic hierarchy: Ward agglomerative clustering of the topics' c-TF-IDF rows with the
//! merged topics' words at each node (BERTopic's `hierarchical_topics`) and its text tree
//! (`get_topic_tree`).

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::{csv_bytes, sparse_cosine, Row};
use crate::error::{BertopicError, Result};
use crate::TopicModel;

/// Words joined into node and leaf names (BERTopic joins the first five with `_`).
const NAME_WORDS: usize = 5;

/// One merge of [`TopicHierarchy`]: SciPy's linkage row plus BERTopic's names and words.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HierarchyNode {
    /// Node id: `n_leaves + merge index` (leaves are `0..n_leaves`, SciPy's numbering).
    pub id: usize,
    /// Left child id (the smaller one, as SciPy's `linkage` without optimal ordering).
    pub left: usize,
    /// Right child id.
    pub right: usize,
    /// Ward distance at which the children merge.
    pub distance: f64,
    /// Topic ids under this node, ascending.
    pub topics: Vec<i64>,
    /// Top words of the merged topics' c-TF-IDF (summed counts weighed with the fitted idf).
    pub words: Vec<(String, f64)>,
    /// The first five words joined by `_` (BERTopic's `Parent_Name`).
    pub name: String,
}

/// BERTopic's `hierarchical_topics`: the merge tree of the non-outlier topics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopicHierarchy {
    /// Leaf `i`: its topic id and name (first five topic words joined by `_`).
    pub leaves: Vec<(i64, String)>,
    /// Merges in order of increasing distance; node `k` has id `leaves.len() + k`.
    pub nodes: Vec<HierarchyNode>,
}

impl TopicModel {
    /// BERTopic's `hierarchical_topics` with its defaults: distance `1 − cosine` between the
    /// topics' c-TF-IDF rows (outliers left out), SciPy's `ward` linkage, and for every merge
    /// the words of the merged topics (their summed term counts weighed with the fitted idf).
    ///
    /// Differences from BERTopic, both for determinism: tied merge distances are kept (BERTopic
    /// adds unseeded random noise so that `fcluster` finds each node's topics; here the topics
    /// come from the tree itself), and children are not reordered for the dendrogram
    /// (`optimal_ordering=True` only swaps left and right).
    pub fn hierarchical_topics(&self) -> Result<TopicHierarchy> {
        let (ids, rows) = self.topic_rows();
        if ids.len() < 2 {
            return Err(BertopicError::InvalidParams(format!(
                "hierarchical_topics needs at least 2 topics (the model has {})",
                ids.len()
            )));
        }
        let repr = &self.representation;
        let n = ids.len();
        let mut dist = vec![vec![0.0f64; n]; n];
        for i in 0..n {
            for j in (i + 1)..n {
                let c = sparse_cosine(repr.ctfidf.row(rows[i]), repr.ctfidf.row(rows[j]));
                // Rounding can make 1 − cos a hair negative for identical rows; SciPy refuses
                // negative distances.
                let d = (1.0 - c).max(0.0);
                dist[i][j] = d;
                dist[j][i] = d;
            }
        }
        let z = ward_linkage(dist);
        let leaves: Vec<(i64, String)> = ids
            .iter()
            .map(|&t| {
                let words = self.topic(t).map(|tp| tp.words.clone()).unwrap_or_default();
                (t, join_name(&words))
            })
            .collect();
        // Leaves under each node, built bottom-up.
        let mut under: Vec<Vec<usize>> = (0..n).map(|i| vec![i]).collect();
        let mut nodes = Vec::with_capacity(z.len());
        for (k, &(a, b, d, _)) in z.iter().enumerate() {
            let mut members = under[a].clone();
            members.extend_from_slice(&under[b]);
            members.sort_unstable();
            let mut summed: Vec<f64> = vec![0.0; repr.vocabulary.len()];
            for &m in &members {
                let (idx, val) = repr.counts.row(rows[m]);
                for (&i, &v) in idx.iter().zip(val) {
                    summed[i] += v;
                }
            }
            let (idx, val): (Vec<usize>, Vec<f64>) = summed
                .iter()
                .enumerate()
                .filter(|(_, &v)| v != 0.0)
                .map(|(i, &v)| (i, v))
                .unzip();
            let row: Row = self.weigh((&idx, &val));
            let words = self.row_words(&row, self.params.top_n_words);
            nodes.push(HierarchyNode {
                id: n + k,
                left: a,
                right: b,
                distance: d,
                topics: members.iter().map(|&m| ids[m]).collect(),
                name: join_name(&words),
                words,
            });
            under.push(members);
        }
        Ok(TopicHierarchy { leaves, nodes })
    }
}

fn join_name(words: &[(String, f64)]) -> String {
    words
        .iter()
        .take(NAME_WORDS)
        .map(|(w, _)| w.as_str())
        .collect::<Vec<_>>()
        .join("_")
}

/// SciPy's `linkage(condensed(dist), method="ward")`: rows `(left, right, distance, size)` with
/// `left < right`, sorted by distance, new clusters numbered `n, n + 1, …` in row order.
///
/// Merges the closest pair of clusters each step (ties: the lowest index pair) and updates
/// distances with the Lance–Williams formula for Ward, as SciPy does on any input distances:
/// `d(k, i∪j) = sqrt(((n_i+n_k) d_ik² + (n_j+n_k) d_jk² − n_k d_ij²) / (n_i+n_j+n_k))`. Ward
/// is reducible, so this finds the same merges as SciPy's nearest-neighbour chain.
pub(crate) fn ward_linkage(mut d: Vec<Vec<f64>>) -> Vec<(usize, usize, f64, usize)> {
    let n = d.len();
    let mut size = vec![1usize; n];
    let mut alive = vec![true; n];
    let mut merges: Vec<(usize, usize, f64)> = Vec::with_capacity(n.saturating_sub(1));
    for _ in 1..n {
        let mut best = (f64::INFINITY, usize::MAX, usize::MAX);
        for i in 0..n {
            if !alive[i] {
                continue;
            }
            for j in (i + 1)..n {
                if alive[j] && d[i][j] < best.0 {
                    best = (d[i][j], i, j);
                }
            }
        }
        let (dij, i, j) = best;
        if i == usize::MAX {
            break;
        }
        merges.push((i, j, dij));
        let (ni, nj) = (size[i] as f64, size[j] as f64);
        for k in 0..n {
            if !alive[k] || k == i || k == j {
                continue;
            }
            let nk = size[k] as f64;
            let v = ((ni + nk) * d[i][k] * d[i][k] + (nj + nk) * d[j][k] * d[j][k]
                - nk * dij * dij)
                / (ni + nj + nk);
            let v = v.max(0.0).sqrt();
            d[j][k] = v;
            d[k][j] = v;
        }
        alive[i] = false;
        size[j] += size[i];
    }
    // SciPy sorts the merges by distance (stably) and labels clusters with a union-find.
    merges.sort_by(|a, b| a.2.total_cmp(&b.2));
    let mut parent: Vec<usize> = (0..2 * n).collect();
    let mut csize: Vec<usize> = vec![1; 2 * n];
    let find = |parent: &mut Vec<usize>, mut x: usize| {
        while parent[x] != x {
            let p = parent[x];
            parent[x] = parent[p];
            x = p;
        }
        x
    };
    let mut z = Vec::with_capacity(merges.len());
    for (r, &(x, y, dist)) in merges.iter().enumerate() {
        let (rx, ry) = (find(&mut parent, x), find(&mut parent, y));
        let new = n + r;
        let s = csize[rx] + csize[ry];
        parent[rx] = new;
        parent[ry] = new;
        csize[new] = s;
        z.push((rx.min(ry), rx.max(ry), dist, s));
    }
    z
}

impl TopicHierarchy {
    /// Name of a node or leaf id (the node's merged words, or the leaf topic's words).
    pub fn name_of(&self, id: usize) -> &str {
        match id.checked_sub(self.leaves.len()) {
            None => self.leaves.get(id).map_or("", |l| l.1.as_str()),
            Some(k) => self.nodes.get(k).map_or("", |n| n.name.as_str()),
        }
    }

    /// Distance of the merge that absorbs `id` (none for the root).
    fn merge_distance(&self, id: usize) -> Option<f64> {
        self.nodes
            .iter()
            .find(|n| n.left == id || n.right == id)
            .map(|n| n.distance)
    }

    /// BERTopic's `get_topic_tree`: the hierarchy as indented text, root first. Leaves show
    /// their words and topic id (`■──words ── Topic: 3`); leaves that merge at or above
    /// `max_distance` show as `O`. Names are cut at 100 characters.
    pub fn tree_text(&self, max_distance: Option<f64>) -> String {
        let max_d = max_distance.unwrap_or_else(|| {
            self.nodes
                .iter()
                .map(|n| n.distance)
                .fold(f64::MIN, f64::max)
                + 1.0
        });
        let mut s = String::from(".\n");
        if let Some(root) = self.nodes.last() {
            self.children_text(&mut s, root.id, "", max_d, 4);
        }
        s
    }

    fn children_text(&self, s: &mut String, id: usize, indent: &str, max_d: f64, width: usize) {
        let Some(node) = id
            .checked_sub(self.leaves.len())
            .and_then(|k| self.nodes.get(k))
        else {
            return;
        };
        let kids = [node.left, node.right];
        for (i, &child) in kids.iter().enumerate() {
            let last = i + 1 == kids.len();
            s.push_str(indent);
            s.push_str(if last { "└─" } else { "├─" });
            let name: String = self.name_of(child).chars().take(100).collect();
            if child < self.leaves.len() {
                let d = self.merge_distance(child).unwrap_or(f64::INFINITY);
                if d < max_d {
                    let _ = writeln!(s, "■──{name} ── Topic: {}", self.leaves[child].0);
                } else {
                    s.push_str("O \n");
                }
            } else {
                s.push_str(&name);
                s.push('\n');
            }
            let next = if last {
                format!("{indent}{}", " ".repeat(width + 1))
            } else {
                format!("{indent}│{}", " ".repeat(width))
            };
            self.children_text(s, child, &next, max_d, width);
        }
    }

    /// BERTopic's table: `Parent_ID,Parent_Name,Topics,Child_Left_ID,Child_Left_Name,
    /// Child_Right_ID,Child_Right_Name,Distance`, newest merge first (Topics space-separated).
    pub fn to_csv(&self) -> Result<Vec<u8>> {
        csv_bytes(
            &[
                "Parent_ID",
                "Parent_Name",
                "Topics",
                "Child_Left_ID",
                "Child_Left_Name",
                "Child_Right_ID",
                "Child_Right_Name",
                "Distance",
            ],
            self.nodes.iter().rev().map(|n| {
                vec![
                    n.id.to_string(),
                    n.name.clone(),
                    n.topics
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(" "),
                    n.left.to_string(),
                    self.name_of(n.left).to_string(),
                    n.right.to_string(),
                    self.name_of(n.right).to_string(),
                    format!("{}", n.distance),
                ]
            }),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Ward on four points on a line (Euclidean distances): {0,1} merge at 1, {2,3} at 2, then
    /// the two pairs at SciPy's Ward distance sqrt(2·n_a·n_b / (n_a + n_b)) × centroid gap.
    #[test]
    fn ward_on_a_line() {
        let x = [0.0f64, 1.0, 10.0, 12.0];
        let d: Vec<Vec<f64>> = x
            .iter()
            .map(|a| x.iter().map(|b| (a - b).abs()).collect())
            .collect();
        let z = ward_linkage(d);
        assert_eq!(z.len(), 3);
        assert_eq!((z[0].0, z[0].1, z[0].3), (0, 1, 2));
        assert!((z[0].2 - 1.0).abs() < 1e-12);
        assert_eq!((z[1].0, z[1].1, z[1].3), (2, 3, 2));
        assert!((z[1].2 - 2.0).abs() < 1e-12);
        assert_eq!((z[2].0, z[2].1, z[2].3), (4, 5, 4));
        let want = (2.0f64 * 2.0 * 2.0 / 4.0).sqrt() * (11.0 - 0.5);
        assert!((z[2].2 - want).abs() < 1e-9, "{} vs {want}", z[2].2);
    }
}
