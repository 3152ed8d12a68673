//! When a demo shows each finding: the wall-clock schedule of a scenario's timeline.
//!
//! Scenarios are real incidents in time: their first finding comes half an hour in and hours of
//! nothing separate the acts. Played proportionally in three minutes, a new user stares at an
//! empty table for most of a minute. So the default pacing compresses quiet: the wait before the
//! first finding is at most [`LEAD`], the next findings follow at most [`OPENING_GAP`] apart so
//! the table fills in the first seconds, and every later gap plays at one speed chosen so the
//! whole scenario lasts about [`TARGET`], no gap lasting longer than a cap. What a gap loses is
//! quiet skipped, and the status line says so. `--speed N` keeps exact proportions instead.

use std::time::Duration;

/// Longest wait before the first finding (paced); loading the scenario comes out of it too.
pub const LEAD: Duration = Duration::from_secs(1);
/// Longest wait between the first findings (paced), so three arrive within ten seconds.
pub const OPENING_GAP: Duration = Duration::from_secs(3);
/// How many findings open the demo at [`OPENING_GAP`] at most.
pub const OPENING: usize = 3;
/// How long a paced scenario plays until its last finding.
pub const TARGET: Duration = Duration::from_secs(180);
/// The shortest cap on one later gap (paced); scenarios with few findings get a longer one.
const MIN_GAP_CAP: f64 = 30.0;
/// Skips shorter than this are not worth a notice.
pub const NOTICE_MIN: Duration = Duration::from_secs(60);

/// How to play a scenario.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// The default: quiet compressed, about three minutes (see the module documentation).
    Paced,
    /// Exact proportions at this many times real time (`--speed N`).
    Speed(f64),
}

/// The wait before one finding: in the scenario, on the wall clock, and what was skipped.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gap {
    /// When the wait starts on the wall clock (the previous finding's arrival, or 0).
    pub wall_start: Duration,
    /// How long it lasts on the wall clock.
    pub wall: Duration,
    /// Where it starts in the scenario (the previous finding's offset, or 0).
    pub scenario_start: Duration,
    /// Scenario time skipped at the start of the wait. The rest plays at the playback speed, so
    /// the minutes shown are the ones leading up to the finding.
    pub skipped: Duration,
}

impl Gap {
    /// When the finding that ends this gap arrives on the wall clock.
    pub fn arrival(&self) -> Duration {
        self.wall_start.saturating_add(self.wall)
    }
}

/// A scenario's schedule: one gap per finding, in timeline order.
#[derive(Debug, Clone, PartialEq)]
pub struct Playback {
    pub gaps: Vec<Gap>,
    /// Scenario seconds per wall second while playing (between skips).
    pub speed: f64,
}

/// A usable speed: not zero, negative or NaN, and within bounds that keep every wall and
/// scenario time a representable duration.
fn sane(speed: f64) -> f64 {
    if speed.is_finite() && speed > 0.0 {
        speed.clamp(1e-3, 1e9)
    } else {
        1.0
    }
}

fn secs(s: f64) -> Duration {
    Duration::try_from_secs_f64(s).unwrap_or(Duration::MAX)
}

impl Playback {
    /// The schedule of findings due at `offsets` (scenario time, sorted) under `pacing`.
    pub fn new(offsets: &[Duration], pacing: Pacing) -> Playback {
        let gaps: Vec<f64> = offsets
            .iter()
            .scan(Duration::ZERO, |prev, o| {
                let g = o.saturating_sub(*prev);
                *prev = (*prev).max(*o);
                Some(g.as_secs_f64())
            })
            .collect();
        let (speed, caps) = match pacing {
            Pacing::Speed(s) => (sane(s), vec![f64::INFINITY; gaps.len()]),
            Pacing::Paced => paced(&gaps),
        };
        let mut out = Vec::with_capacity(gaps.len());
        let (mut wall_start, mut scenario_start) = (Duration::ZERO, Duration::ZERO);
        for (g, cap) in gaps.iter().zip(caps) {
            let wall = (g / speed).min(cap);
            let skipped = (g - wall * speed).max(0.0);
            let wall = secs(wall);
            out.push(Gap {
                wall_start,
                wall,
                scenario_start,
                skipped: secs(skipped),
            });
            wall_start = wall_start.saturating_add(wall);
            scenario_start = scenario_start.saturating_add(secs(*g));
        }
        Playback { gaps: out, speed }
    }

    /// Whether `gap`'s skip deserves a notice: a minute or more, and most of the wait. A gap
    /// that merely played a little faster than the rest (a cap just bit) is not quiet skipped.
    pub fn worth_notice(&self, gap: &Gap) -> bool {
        gap.skipped >= NOTICE_MIN
            && gap.skipped.as_secs_f64() >= gap.wall.as_secs_f64() * self.speed
    }

    /// When the last finding arrives.
    pub fn total(&self) -> Duration {
        self.gaps.last().map_or(Duration::ZERO, Gap::arrival)
    }

    /// Scenario time at `wall` since the start of play (what the demo world's clock reads). At a
    /// finding's arrival it reads the finding's offset; the next skip comes just after.
    pub fn scenario_at(&self, wall: Duration) -> Duration {
        let Some(g) = self.gaps.iter().rev().find(|g| g.wall_start < wall) else {
            return Duration::ZERO;
        };
        let played = wall.saturating_sub(g.wall_start).min(g.wall);
        let after = wall.saturating_sub(g.arrival());
        let run = secs((played + after).as_secs_f64() * self.speed);
        g.scenario_start
            .saturating_add(g.skipped)
            .saturating_add(run)
    }
}

/// The paced schedule's speed and per-gap caps (wall seconds) for gaps of `gaps` seconds.
fn paced(gaps: &[f64]) -> (f64, Vec<f64>) {
    let opening = gaps.len().min(OPENING);
    let later = gaps.len() - opening;
    let fixed = LEAD.as_secs_f64() + OPENING_GAP.as_secs_f64() * opening.saturating_sub(1) as f64;
    let budget = TARGET.as_secs_f64() - fixed;
    // Half as long again as an even share of the budget, so the later gaps keep some of their
    // proportions (a cap at the even share would play them all alike).
    let cap = match later {
        0 => f64::INFINITY,
        n => MIN_GAP_CAP.max(1.5 * budget / n as f64),
    };
    let caps: Vec<f64> = (0..gaps.len())
        .map(|i| match i {
            0 => LEAD.as_secs_f64(),
            i if i < opening => OPENING_GAP.as_secs_f64(),
            _ => cap,
        })
        .collect();
    let total = |s: f64| -> f64 { gaps.iter().zip(&caps).map(|(g, c)| (g / s).min(*c)).sum() };
    // A scenario short enough plays in real time (its caps still apply).
    if total(1.0) <= TARGET.as_secs_f64() {
        return (1.0, caps);
    }
    // The total falls as the speed rises: bisect on a log scale for the target.
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    while total(hi) > TARGET.as_secs_f64() && hi < 1e12 {
        hi *= 2.0;
    }
    for _ in 0..64 {
        let mid = (lo * hi).sqrt();
        if total(mid) > TARGET.as_secs_f64() {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (hi, caps)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn offsets(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|s| Duration::from_secs(*s)).collect()
    }

    #[test]
    fn exact_speed_divides_every_offset() {
        let p = Playback::new(&offsets(&[100, 300, 1000]), Pacing::Speed(10.0));
        let arrivals: Vec<f64> = p.gaps.iter().map(|g| g.arrival().as_secs_f64()).collect();
        assert_eq!(arrivals, vec![10.0, 30.0, 100.0]);
        assert!(p.gaps.iter().all(|g| g.skipped.is_zero()));
        assert_eq!(p.scenario_at(Duration::from_secs(50)).as_secs(), 500);
    }

    #[test]
    fn paced_compresses_the_lead_and_opening_and_keeps_the_target() {
        let p = Playback::new(
            &offsets(&[2000, 5000, 9000, 9500, 12000, 30000, 31000]),
            Pacing::Paced,
        );
        let at: Vec<f64> = p.gaps.iter().map(|g| g.arrival().as_secs_f64()).collect();
        assert!(at[0] <= 3.0, "{at:?}");
        assert!(at[2] <= 10.0, "{at:?}");
        assert!((p.total().as_secs_f64() - 180.0).abs() < 1.0, "{at:?}");
        // The long quiet before the sixth finding is skipped, most of it.
        assert!(
            p.gaps[5].skipped > Duration::from_secs(3600),
            "{:?}",
            p.gaps[5]
        );
        assert!(p.worth_notice(&p.gaps[5]));
        // The 500 s between the third and fourth findings play almost whole: no notice.
        assert!(!p.worth_notice(&p.gaps[3]), "{:?}", p.gaps[3]);
        // Gaps are played in order at one speed: what is not skipped is played.
        for g in &p.gaps {
            let played = g.wall.as_secs_f64() * p.speed;
            let scen = p.scenario_at(g.arrival()) - g.scenario_start;
            assert!((played + g.skipped.as_secs_f64() - scen.as_secs_f64()).abs() < 0.01);
        }
    }

    #[test]
    fn scenario_clock_jumps_at_a_skip_and_never_goes_back() {
        let offsets = offsets(&[2000, 5000, 9000, 9500, 12000, 30000]);
        let p = Playback::new(&offsets, Pacing::Paced);
        let mut last = Duration::ZERO;
        for ms in (0..200_000).step_by(250) {
            let s = p.scenario_at(Duration::from_millis(ms));
            assert!(s >= last, "clock went back at {ms} ms");
            last = s;
        }
        for (g, o) in p.gaps.iter().zip(&offsets) {
            let at = p.scenario_at(g.arrival()).as_secs_f64();
            assert!((at - o.as_secs_f64()).abs() < 0.01, "{at} vs {o:?}");
        }
    }

    #[test]
    fn a_short_scenario_plays_in_real_time_within_the_caps() {
        let p = Playback::new(&offsets(&[1, 2, 20, 40]), Pacing::Paced);
        assert_eq!(p.speed, 1.0);
        let at: Vec<u64> = p.gaps.iter().map(|g| g.arrival().as_secs()).collect();
        assert_eq!(at, vec![1, 2, 5, 25]);
    }
}
