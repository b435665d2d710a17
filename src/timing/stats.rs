//! Latency statistics and the verdict: pure functions over samples in
//! milliseconds, no I/O, no clock.
//!
//! - Percentiles interpolate linearly between closest ranks (Hyndman & Fan
//!   type 7, numpy's default): `p` sits at rank `(n − 1)·p`.
//! - Outliers follow the median-absolute-deviation rule of Iglewicz and
//!   Hoaglin: a sample is an outlier when its modified z-score
//!   `0.6745·|x − median| / MAD` exceeds 3.5. They are flagged, never dropped.
//! - The confidence interval for the ratio of medians (target/source) is a
//!   percentile bootstrap. Iterations are resampled in pairs, because the
//!   runner measures source and target interleaved: machine drift hits both
//!   halves of a pair, and resampling pairs keeps that.
//! - The runner measures in independent blocks (fresh sessions, own
//!   warm-up). The interval is then a hierarchical bootstrap (Saravanan et
//!   al. 2020): each resample draws blocks with replacement, then pairs with
//!   replacement within each drawn block, and takes the ratio of the pooled
//!   medians. It widens with the spread between blocks, which is what
//!   differs from one run to the next (which backend, which core, what else
//!   the machine is doing), not only with the noise within one stretch of
//!   iterations. One block is the plain paired bootstrap.
//! - The RNG is a seeded SplitMix64, so the interval is the same on every
//!   run over the same samples.

use serde::Serialize;

/// Per-side summary of one operation's latencies.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct LatencySummary {
    pub n: usize,
    pub min_ms: f64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p95_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
    /// Sample standard deviation (n − 1 in the denominator); 0 for n < 2.
    pub stddev_ms: f64,
    /// Samples flagged by the MAD rule (modified z-score > 3.5).
    pub outliers: usize,
}

impl LatencySummary {
    pub fn of(samples: &[f64]) -> LatencySummary {
        if samples.is_empty() {
            return LatencySummary::default();
        }
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let mean = s.iter().sum::<f64>() / n as f64;
        let var = if n > 1 {
            s.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        LatencySummary {
            n,
            min_ms: s[0],
            p50_ms: percentile_sorted(&s, 0.50),
            p90_ms: percentile_sorted(&s, 0.90),
            p95_ms: percentile_sorted(&s, 0.95),
            p99_ms: percentile_sorted(&s, 0.99),
            max_ms: s[n - 1],
            mean_ms: mean,
            stddev_ms: var.sqrt(),
            outliers: mad_outliers(samples).len(),
        }
    }
}

/// The `p`-quantile (0 ≤ p ≤ 1) of ascending `sorted`, interpolated linearly.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * p.clamp(0.0, 1.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// The median of unsorted samples.
pub fn median(samples: &[f64]) -> f64 {
    let mut s = samples.to_vec();
    median_in_place(&mut s)
}

/// The median, reordering `s` (selection, O(n)).
fn median_in_place(s: &mut [f64]) -> f64 {
    let n = s.len();
    if n == 0 {
        return f64::NAN;
    }
    let (_, &mut hi, _) = s.select_nth_unstable_by(n / 2, f64::total_cmp);
    if n % 2 == 1 {
        hi
    } else {
        let lo = s[..n / 2].iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (lo + hi) / 2.0
    }
}

/// Indices of the samples whose modified z-score exceeds 3.5. With a MAD
/// of zero (more than half the samples identical) nothing can be scaled, so
/// nothing is flagged.
pub fn mad_outliers(samples: &[f64]) -> Vec<usize> {
    if samples.len() < 3 {
        return Vec::new();
    }
    let med = median(samples);
    let dev: Vec<f64> = samples.iter().map(|x| (x - med).abs()).collect();
    let mad = median(&dev);
    if mad <= 0.0 || !mad.is_finite() {
        return Vec::new();
    }
    dev.iter()
        .enumerate()
        .filter(|(_, d)| 0.6745 * **d / mad > 3.5)
        .map(|(i, _)| i)
        .collect()
}

/// Target against source.
#[derive(Debug, Clone, PartialEq, Serialize, Default)]
pub struct Comparison {
    /// median(target) / median(source).
    pub ratio_p50: f64,
    /// p95(target) / p95(source).
    pub ratio_p95: f64,
    /// Bounds of the 95% bootstrap confidence interval for `ratio_p50`
    /// (hierarchical over blocks when there are several).
    pub ci_low: f64,
    pub ci_high: f64,
    /// Independent blocks the samples were measured in.
    pub blocks: usize,
    /// median(target)/median(source) within each block, in run order: the
    /// between-block spread the interval accounts for.
    pub block_ratios: Vec<f64>,
    /// The lowest and highest of `block_ratios`.
    pub block_ratio_min: f64,
    pub block_ratio_max: f64,
}

/// Resamples used for the bootstrap interval.
pub const BOOTSTRAP_RESAMPLES: usize = 2000;
/// Fixed seed: the interval is reproducible from the samples alone.
pub const BOOTSTRAP_SEED: u64 = 0x5EED_0F9A_817E_5001;

/// One block of samples, source and target.
pub type Block = (Vec<f64>, Vec<f64>);

pub fn compare(source: &[f64], target: &[f64]) -> Comparison {
    compare_blocks(&[(source.to_vec(), target.to_vec())])
}

/// Target against source over samples measured in blocks: ratios of the
/// pooled samples, the interval from [`hierarchical_ratio_ci`].
pub fn compare_blocks(blocks: &[Block]) -> Comparison {
    let source: Vec<f64> = blocks.iter().flat_map(|b| b.0.iter().copied()).collect();
    let target: Vec<f64> = blocks.iter().flat_map(|b| b.1.iter().copied()).collect();
    let s = LatencySummary::of(&source);
    let t = LatencySummary::of(&target);
    let (ci_low, ci_high) =
        hierarchical_ratio_ci(blocks, BOOTSTRAP_RESAMPLES, 0.95, BOOTSTRAP_SEED);
    let block_ratios: Vec<f64> = blocks
        .iter()
        .filter(|b| !b.0.is_empty() && !b.1.is_empty())
        .map(|b| ratio(median(&b.1), median(&b.0)))
        .collect();
    let (lo, hi) = block_ratios
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), r| {
            (lo.min(*r), hi.max(*r))
        });
    Comparison {
        ratio_p50: ratio(t.p50_ms, s.p50_ms),
        ratio_p95: ratio(t.p95_ms, s.p95_ms),
        ci_low,
        ci_high,
        blocks: blocks.len(),
        block_ratio_min: if block_ratios.is_empty() {
            f64::NAN
        } else {
            lo
        },
        block_ratio_max: if block_ratios.is_empty() {
            f64::NAN
        } else {
            hi
        },
        block_ratios,
    }
}

/// Hierarchical percentile bootstrap at `confidence` for the ratio of
/// pooled medians: per resample, blocks drawn with replacement, then pairs
/// (index i of both sides) drawn with replacement within each drawn block.
/// One block is [`bootstrap_ratio_ci`]; empty blocks are left out.
pub fn hierarchical_ratio_ci(
    blocks: &[Block],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> (f64, f64) {
    let blocks: Vec<&Block> = blocks
        .iter()
        .filter(|b| !b.0.is_empty() && !b.1.is_empty())
        .collect();
    match blocks.len() {
        0 => return (f64::NAN, f64::NAN),
        1 => return bootstrap_ratio_ci(&blocks[0].0, &blocks[0].1, resamples, confidence, seed),
        _ => {}
    }
    if resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = SplitMix64(seed);
    let mut bs: Vec<f64> = Vec::new();
    let mut bt: Vec<f64> = Vec::new();
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        bs.clear();
        bt.clear();
        for _ in 0..blocks.len() {
            let (s, t) = blocks[rng.below(blocks.len())];
            if s.len() == t.len() {
                for _ in 0..s.len() {
                    let i = rng.below(s.len());
                    bs.push(s[i]);
                    bt.push(t[i]);
                }
            } else {
                for _ in 0..s.len() {
                    bs.push(s[rng.below(s.len())]);
                }
                for _ in 0..t.len() {
                    bt.push(t[rng.below(t.len())]);
                }
            }
        }
        ratios.push(ratio(median_in_place(&mut bt), median_in_place(&mut bs)));
    }
    ratios.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    (
        percentile_sorted(&ratios, alpha),
        percentile_sorted(&ratios, 1.0 - alpha),
    )
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 {
        a / b
    } else if a == b {
        1.0
    } else {
        f64::INFINITY
    }
}

/// Percentile-bootstrap interval at `confidence` for median(target) /
/// median(source). Equal-length inputs are resampled as pairs (index i of
/// both); otherwise each side is resampled on its own.
pub fn bootstrap_ratio_ci(
    source: &[f64],
    target: &[f64],
    resamples: usize,
    confidence: f64,
    seed: u64,
) -> (f64, f64) {
    if source.is_empty() || target.is_empty() || resamples == 0 {
        return (f64::NAN, f64::NAN);
    }
    let mut rng = SplitMix64(seed);
    let paired = source.len() == target.len();
    let mut bs = vec![0.0; source.len()];
    let mut bt = vec![0.0; target.len()];
    let mut ratios = Vec::with_capacity(resamples);
    for _ in 0..resamples {
        if paired {
            for k in 0..source.len() {
                let i = rng.below(source.len());
                bs[k] = source[i];
                bt[k] = target[i];
            }
        } else {
            for x in bs.iter_mut() {
                *x = source[rng.below(source.len())];
            }
            for x in bt.iter_mut() {
                *x = target[rng.below(target.len())];
            }
        }
        ratios.push(ratio(median_in_place(&mut bt), median_in_place(&mut bs)));
    }
    ratios.sort_by(f64::total_cmp);
    let alpha = (1.0 - confidence) / 2.0;
    (
        percentile_sorted(&ratios, alpha),
        percentile_sorted(&ratios, 1.0 - alpha),
    )
}

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, good enough to drive a
/// bootstrap, and seedable.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-32
    /// for the sample counts timing uses).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// The outcome for one operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TimingVerdict {
    /// The two sides returned different results for some parameter set.
    Mismatch,
    /// The interval's lower bound is above 1 + max_slowdown.
    Slower,
    /// The interval's upper bound is below 1 / (1 + max_slowdown).
    Faster,
    Same,
    /// The operation could not be run (SQL error, refused write, …).
    Error,
}

impl TimingVerdict {
    pub fn as_str(self) -> &'static str {
        match self {
            TimingVerdict::Mismatch => "mismatch",
            TimingVerdict::Slower => "slower",
            TimingVerdict::Faster => "faster",
            TimingVerdict::Same => "same",
            TimingVerdict::Error => "error",
        }
    }

    /// Whether this verdict fails the run (exit 1).
    pub fn fails(self) -> bool {
        matches!(self, TimingVerdict::Mismatch | TimingVerdict::Slower)
    }
}

/// The order: mismatch, then slower, then faster, else same.
/// `same` is a band around 1 as wide on both sides (as ratios): `slower`
/// needs the whole interval above 1 + max_slowdown, `faster` below
/// 1 / (1 + max_slowdown). Without the band on the faster side, an
/// operation a few percent faster came out `faster` one run and `same` the
/// next (issue 18); `faster` never fails a run, so the band costs the gate
/// nothing.
pub fn verdict(results_match: bool, cmp: &Comparison, max_slowdown: f64) -> TimingVerdict {
    if !results_match {
        TimingVerdict::Mismatch
    } else if cmp.ci_low > 1.0 + max_slowdown {
        TimingVerdict::Slower
    } else if cmp.ci_high < 1.0 / (1.0 + max_slowdown) {
        TimingVerdict::Faster
    } else {
        TimingVerdict::Same
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn percentiles_by_hand() {
        // 1..=10: rank h = 9p. p50 → h=4.5 → 5.5; p90 → h=8.1 → 9.1;
        // p95 → h=8.55 → 9.55; p99 → h=8.91 → 9.91.
        let s: Vec<f64> = (1..=10).map(f64::from).collect();
        let sum = LatencySummary::of(&s);
        assert_eq!(sum.n, 10);
        assert!(close(sum.min_ms, 1.0) && close(sum.max_ms, 10.0));
        assert!(close(sum.p50_ms, 5.5), "{}", sum.p50_ms);
        assert!(close(sum.p90_ms, 9.1), "{}", sum.p90_ms);
        assert!(close(sum.p95_ms, 9.55), "{}", sum.p95_ms);
        assert!(close(sum.p99_ms, 9.91), "{}", sum.p99_ms);
        assert!(close(sum.mean_ms, 5.5));
        // Σ(x − 5.5)² = 82.5; / 9 = 9.1666…; sqrt = 3.02765…
        assert!(close(sum.stddev_ms, (82.5f64 / 9.0).sqrt()));
        assert_eq!(sum.outliers, 0);
    }

    #[test]
    fn percentiles_of_tiny_and_unsorted_inputs() {
        let sum = LatencySummary::of(&[3.0]);
        assert_eq!(
            (sum.n, sum.p50_ms, sum.p99_ms, sum.stddev_ms),
            (1, 3.0, 3.0, 0.0)
        );
        // Unsorted: 4, 1, 3, 2 → sorted 1..4; p50 = 2.5, p90 → h=2.7 → 3.7.
        let sum = LatencySummary::of(&[4.0, 1.0, 3.0, 2.0]);
        assert!(close(sum.p50_ms, 2.5) && close(sum.p90_ms, 3.7));
        assert!(close(median(&[4.0, 1.0, 3.0, 2.0]), 2.5));
        assert!(close(median(&[5.0, 1.0, 3.0]), 3.0));
        assert_eq!(LatencySummary::of(&[]).n, 0);
    }

    #[test]
    fn mad_rule_by_hand() {
        // Sorted 8,9,10,10,11,12,100 → median 10; deviations
        // 0,1,1,2,2,90,0 → sorted 0,0,1,1,2,2,90 → MAD = 1.
        let s = [10.0, 9.0, 11.0, 8.0, 12.0, 100.0, 10.0];
        // 100: 0.6745·90 = 60.7 > 3.5; 8 and 12: 0.6745·2 = 1.35.
        assert_eq!(mad_outliers(&s), vec![5]);
        // 17: 0.6745·7/1 = 4.72 > 3.5 → outlier; 15: 0.6745·5 = 3.37 → not.
        let s = [10.0, 9.0, 11.0, 8.0, 12.0, 17.0, 10.0];
        assert_eq!(mad_outliers(&s), vec![5]);
        let s = [10.0, 9.0, 11.0, 8.0, 12.0, 15.0, 10.0];
        assert!(mad_outliers(&s).is_empty());
        // Constant samples: MAD 0, nothing flagged.
        assert!(mad_outliers(&[1.0, 1.0, 1.0, 5.0]).is_empty());
        assert_eq!(
            LatencySummary::of(&[10.0, 9.0, 11.0, 8.0, 12.0, 100.0, 10.0]).outliers,
            1
        );
    }

    #[test]
    fn ratios_and_verdict_order() {
        let s = [1.0, 2.0, 3.0];
        let t = [2.0, 4.0, 6.0];
        let c = compare(&s, &t);
        assert!(close(c.ratio_p50, 2.0) && close(c.ratio_p95, 2.0));
        // t = 2·s pointwise, so in every paired resample the median of t is
        // twice the median of s: the interval collapses to 2.
        assert!(close(c.ci_low, 2.0) && close(c.ci_high, 2.0), "{c:?}");
        assert_eq!(verdict(true, &c, 0.10), TimingVerdict::Slower);
        assert_eq!(verdict(false, &c, 0.10), TimingVerdict::Mismatch);
        let mk = |lo, hi| Comparison {
            ratio_p50: 1.0,
            ratio_p95: 1.0,
            ci_low: lo,
            ci_high: hi,
            ..Comparison::default()
        };
        // Lower bound must clear 1 + max_slowdown, not just 1.
        assert_eq!(verdict(true, &mk(1.05, 1.3), 0.10), TimingVerdict::Same);
        assert_eq!(verdict(true, &mk(1.11, 1.3), 0.10), TimingVerdict::Slower);
        assert_eq!(verdict(true, &mk(0.7, 0.90), 0.10), TimingVerdict::Faster);
        // Faster needs the upper bound below 1/1.1 = 0.909…, not just 1.
        assert_eq!(verdict(true, &mk(0.7, 0.92), 0.10), TimingVerdict::Same);
        assert_eq!(verdict(true, &mk(0.9, 1.01), 0.10), TimingVerdict::Same);
        assert!(
            TimingVerdict::Slower.fails()
                && TimingVerdict::Mismatch.fails()
                && !TimingVerdict::Faster.fails()
        );
    }

    #[test]
    fn bootstrap_is_deterministic() {
        let s: Vec<f64> = (0..50).map(|i| 1.0 + (i % 7) as f64 * 0.1).collect();
        let t: Vec<f64> = (0..50).map(|i| 1.1 + (i % 5) as f64 * 0.1).collect();
        let a = bootstrap_ratio_ci(&s, &t, 500, 0.95, 7);
        let b = bootstrap_ratio_ci(&s, &t, 500, 0.95, 7);
        assert_eq!(a, b);
        assert!(a.0 <= a.1);
    }

    #[test]
    fn hierarchical_interval_widens_with_the_spread_between_blocks() {
        let mut rng = SplitMix64(9);
        // Five blocks whose ratio shifts from block to block (1.1 … 1.5),
        // each tight within itself.
        let shifted: Vec<Block> = [1.1, 1.3, 1.5, 1.2, 1.4]
            .iter()
            .map(|r| {
                let s: Vec<f64> = (0..60).map(|_| lognormal(&mut rng, 1.0, 0.05)).collect();
                let t: Vec<f64> = s.iter().map(|x| x * r).collect();
                (s, t)
            })
            .collect();
        let c = compare_blocks(&shifted);
        assert_eq!(c.blocks, 5);
        assert_eq!(c.block_ratios.len(), 5);
        assert!(
            close(c.block_ratio_min, 1.1) && close(c.block_ratio_max, 1.5),
            "{c:?}"
        );
        // Pooled as one block, the interval is narrow; over blocks it spans
        // most of the between-block spread.
        let pooled: (Vec<f64>, Vec<f64>) = (
            shifted.iter().flat_map(|b| b.0.clone()).collect(),
            shifted.iter().flat_map(|b| b.1.clone()).collect(),
        );
        let one = bootstrap_ratio_ci(&pooled.0, &pooled.1, 1000, 0.95, 1);
        assert!(one.1 - one.0 < 0.15, "{one:?}");
        assert!(c.ci_high - c.ci_low > 0.2, "{c:?}");
        assert!(c.ci_low < 1.3 && 1.3 < c.ci_high, "{c:?}");
        // Identical blocks: no wider than the pooled interval needs.
        let same: Vec<Block> = (0..5)
            .map(|_| {
                let s: Vec<f64> = (0..60).map(|_| lognormal(&mut rng, 1.0, 0.05)).collect();
                let t: Vec<f64> = s.iter().map(|x| x * 1.25).collect();
                (s, t)
            })
            .collect();
        let c = compare_blocks(&same);
        assert!(close(c.ci_low, 1.25) && close(c.ci_high, 1.25), "{c:?}");
        // One block is the paired bootstrap, unchanged.
        let (s, t) = (&same[0].0, &same[0].1);
        assert_eq!(
            hierarchical_ratio_ci(&same[..1], 500, 0.95, 3),
            bootstrap_ratio_ci(s, t, 500, 0.95, 3)
        );
    }

    /// A latency-like sample: a log-normal around `median` (Box–Muller).
    fn lognormal(rng: &mut SplitMix64, median: f64, sigma: f64) -> f64 {
        let u1 = rng.unit().max(1e-12);
        let u2 = rng.unit();
        let z = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        median * (sigma * z).exp()
    }

    #[test]
    fn bootstrap_interval_covers_a_known_ratio() {
        // Target is source's distribution scaled by 1.25: the true ratio of
        // medians is 1.25. A 95% interval should cover it in about 95% of
        // independent trials; allow for Monte-Carlo noise in 120 trials.
        let truth = 1.25;
        let trials = 120;
        let mut covered = 0;
        let mut rng = SplitMix64(42);
        for trial in 0..trials {
            let s: Vec<f64> = (0..150).map(|_| lognormal(&mut rng, 2.0, 0.3)).collect();
            let t: Vec<f64> = (0..150)
                .map(|_| lognormal(&mut rng, 2.0 * truth, 0.3))
                .collect();
            let (lo, hi) = bootstrap_ratio_ci(&s, &t, 1000, 0.95, trial);
            if lo <= truth && truth <= hi {
                covered += 1;
            }
        }
        let coverage = covered as f64 / trials as f64;
        assert!(
            (0.88..=1.0).contains(&coverage),
            "coverage {coverage} ({covered}/{trials})"
        );
        // And with no difference at all, the interval straddles 1 as often.
        let mut straddles = 0;
        for trial in 0..60 {
            let s: Vec<f64> = (0..150).map(|_| lognormal(&mut rng, 2.0, 0.3)).collect();
            let t: Vec<f64> = (0..150).map(|_| lognormal(&mut rng, 2.0, 0.3)).collect();
            let (lo, hi) = bootstrap_ratio_ci(&s, &t, 1000, 0.95, 1000 + trial);
            if lo <= 1.0 && 1.0 <= hi {
                straddles += 1;
            }
        }
        assert!(straddles >= 52, "{straddles}/60");
    }
}
