//! Differentially private releases of survey aggregates, on OpenDP.
//!
//! A release is a set of integer queries over the same responses (a total, a histogram per
//! question, a sum of ratings), each with its sensitivity: how much one response can move it
//! (in L1). The release's ε is split evenly between the queries (sequential composition), and
//! each query gets OpenDP's discrete Laplace mechanism (`make_laplace` on integers, ε-DP under
//! `MaxDivergence`) with scale `sensitivity / ε_query`. What a release spends is what OpenDP's
//! privacy maps say, summed — never more than asked for.
//!
//! The unit of privacy is one response: for an invited survey, one person.

use opendp::domains::{AtomDomain, VectorDomain};
use opendp::measurements::make_laplace;
use opendp::measures::MaxDivergence;
use opendp::metrics::L1Distance;

/// The largest ε a single release may ask for.
pub const MAX_RELEASE_EPSILON: f64 = 10.0;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DpError {
    #[error("epsilon must be a number above 0 and at most {MAX_RELEASE_EPSILON}")]
    InvalidEpsilon,
    #[error("a release needs at least one query, each with a positive sensitivity")]
    InvalidQuery,
    #[error("OpenDP refused the measurement: {0}")]
    OpenDp(String),
}

/// Exact integer answers that one response can change by at most `sensitivity` in total.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub values: Vec<i64>,
    pub sensitivity: i64,
}

/// Noisy answers, in the order of the queries, and the ε they spent.
#[derive(Debug, Clone, PartialEq)]
pub struct Release {
    pub values: Vec<Vec<i64>>,
    pub epsilon_spent: f64,
}

/// Answers every query with discrete Laplace noise, within `epsilon` in total.
pub fn release(queries: &[Query], epsilon: f64) -> Result<Release, DpError> {
    if !epsilon.is_finite() || epsilon <= 0.0 || epsilon > MAX_RELEASE_EPSILON {
        return Err(DpError::InvalidEpsilon);
    }
    if queries.is_empty() || queries.iter().any(|q| q.sensitivity <= 0) {
        return Err(DpError::InvalidQuery);
    }
    let per_query = epsilon / queries.len() as f64;
    let mut values = Vec::with_capacity(queries.len());
    let mut spent = 0.0;
    for q in queries {
        let (noisy, epsilon) = laplace(q, per_query)?;
        values.push(noisy);
        spent += epsilon;
    }
    Ok(Release {
        values,
        epsilon_spent: spent,
    })
}

/// One query under discrete Laplace noise at `epsilon`; returns the answers and OpenDP's ε.
fn laplace(query: &Query, epsilon: f64) -> Result<(Vec<i64>, f64), DpError> {
    let opendp_error = |e: opendp::error::Error| DpError::OpenDp(e.to_string());
    let sensitivity = query.sensitivity as f64;
    // A hair wider than Δ/ε, so OpenDP's conservatively rounded privacy map stays within ε.
    let mut scale = sensitivity / epsilon * (1.0 + 1e-9);
    for _ in 0..8 {
        let measurement = make_laplace::<_, _, MaxDivergence>(
            VectorDomain::new(AtomDomain::<i64>::default()),
            L1Distance::<i64>::default(),
            scale,
            None,
        )
        .map_err(opendp_error)?;
        let spent = measurement.map(&query.sensitivity).map_err(opendp_error)?;
        if spent <= epsilon {
            let noisy = measurement.invoke(&query.values).map_err(opendp_error)?;
            return Ok((noisy, spent));
        }
        scale *= 1.0 + 1e-6;
    }
    Err(DpError::OpenDp(
        "no scale keeps the query within its ε".into(),
    ))
}

/// The noise scale a query of `sensitivity` gets in a release of `queries` queries at `epsilon`
/// (for accuracy notes: the noise's standard deviation is about √2 · scale).
pub fn scale(sensitivity: i64, queries: usize, epsilon: f64) -> f64 {
    sensitivity as f64 * queries as f64 / epsilon
}
