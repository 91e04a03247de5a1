//! Save and load of a fitted model: the arrays and parameters of a [`SavedState`].

use ndarray::Array2;

use super::{FittedHdbscan, HdbscanParams, TreeEdge};
use crate::{ArrayData, ClusterError, NamedArray, SavedState};

impl FittedHdbscan {
    /// Everything [`load`] needs to rebuild this model.
    pub(super) fn to_state(&self) -> SavedState {
        let n = self.data.nrows();
        SavedState {
            kind: "hdbscan".into(),
            params: serde_json::to_value(&self.params).unwrap_or(serde_json::Value::Null),
            arrays: vec![
                NamedArray {
                    name: "data".into(),
                    shape: vec![n, self.data.ncols()],
                    data: ArrayData::F64(self.data.iter().copied().collect()),
                },
                NamedArray {
                    name: "core_distances".into(),
                    shape: vec![n],
                    data: ArrayData::F64(self.core.clone()),
                },
                NamedArray {
                    name: "tree_parent".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::I64(self.tree.iter().map(|e| e.parent as i64).collect()),
                },
                NamedArray {
                    name: "tree_child".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::I64(self.tree.iter().map(|e| e.child as i64).collect()),
                },
                NamedArray {
                    name: "tree_lambda".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::F64(self.tree.iter().map(|e| e.lambda).collect()),
                },
                NamedArray {
                    name: "tree_size".into(),
                    shape: vec![self.tree.len()],
                    data: ArrayData::I64(self.tree.iter().map(|e| e.size as i64).collect()),
                },
                NamedArray {
                    name: "selected".into(),
                    shape: vec![self.selected.len()],
                    data: ArrayData::I64(self.selected.iter().map(|&c| c as i64).collect()),
                },
                NamedArray {
                    name: "labels".into(),
                    shape: vec![n],
                    data: ArrayData::I64(self.labels.clone()),
                },
                NamedArray {
                    name: "probabilities".into(),
                    shape: vec![n],
                    data: ArrayData::F64(self.probabilities.clone()),
                },
                NamedArray {
                    name: "mst_total_weight".into(),
                    shape: vec![1],
                    data: ArrayData::F64(vec![self.mst_total_weight]),
                },
            ],
        }
    }
}

pub(crate) fn load(state: &SavedState) -> Result<FittedHdbscan, ClusterError> {
    let params: HdbscanParams = serde_json::from_value(state.params.clone())
        .map_err(|e| ClusterError::BadState(format!("hdbscan params: {e}")))?;
    let f = |name: &str| -> Result<(&[usize], &[f64]), ClusterError> {
        match state.arrays.iter().find(|a| a.name == name) {
            Some(NamedArray {
                shape,
                data: ArrayData::F64(v),
                ..
            }) => Ok((shape, v)),
            _ => Err(ClusterError::BadState(format!("missing f64 array {name}"))),
        }
    };
    let i = |name: &str| -> Result<&[i64], ClusterError> {
        match state.arrays.iter().find(|a| a.name == name) {
            Some(NamedArray {
                data: ArrayData::I64(v),
                ..
            }) => Ok(v),
            _ => Err(ClusterError::BadState(format!("missing i64 array {name}"))),
        }
    };
    let (shape, flat) = f("data")?;
    if shape.len() != 2 {
        return Err(ClusterError::BadState("data is not 2-d".into()));
    }
    let data = Array2::from_shape_vec((shape[0], shape[1]), flat.to_vec())
        .map_err(|e| ClusterError::BadState(format!("data: {e}")))?;
    let n = data.nrows();
    let (_, core) = f("core_distances")?;
    let (_, lambda) = f("tree_lambda")?;
    let (parent, child, size) = (i("tree_parent")?, i("tree_child")?, i("tree_size")?);
    if parent.len() != lambda.len()
        || child.len() != lambda.len()
        || size.len() != lambda.len()
        || core.len() != n
    {
        return Err(ClusterError::BadState("inconsistent array lengths".into()));
    }
    let as_usize = |v: i64| {
        usize::try_from(v).map_err(|_| ClusterError::BadState(format!("negative index {v}")))
    };
    let mut tree = Vec::with_capacity(lambda.len());
    for k in 0..lambda.len() {
        tree.push(TreeEdge {
            parent: as_usize(parent[k])?,
            child: as_usize(child[k])?,
            lambda: lambda[k],
            size: as_usize(size[k])?,
        });
    }
    let max_node = n + tree.len() + 1;
    if tree
        .iter()
        .any(|e| e.parent < n || e.parent > max_node || e.child > max_node)
    {
        return Err(ClusterError::BadState(
            "condensed tree refers to unknown nodes".into(),
        ));
    }
    let selected = i("selected")?
        .iter()
        .map(|&v| as_usize(v))
        .collect::<Result<Vec<_>, _>>()?;
    let labels = i("labels")?.to_vec();
    let (_, probs) = f("probabilities")?;
    let (_, w) = f("mst_total_weight")?;
    if labels.len() != n || probs.len() != n {
        return Err(ClusterError::BadState(
            "labels/probabilities length differs from data".into(),
        ));
    }
    Ok(FittedHdbscan::from_parts(
        params,
        data,
        core.to_vec(),
        tree,
        selected,
        labels,
        probs.to_vec(),
        w.first().copied().unwrap_or(0.0),
    ))
}
