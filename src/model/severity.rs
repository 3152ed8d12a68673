//! GuardDuty severity: a number (int or float in the wire data), with labels derived from it.

use serde::Serialize;
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum SeverityLabel {
    Low,
    Medium,
    High,
    Critical,
}

impl SeverityLabel {
    /// Critical ≥ 9.0, High ≥ 7.0, Medium ≥ 4.0, Low otherwise.
    pub fn of(severity: f64) -> SeverityLabel {
        if severity >= 9.0 {
            SeverityLabel::Critical
        } else if severity >= 7.0 {
            SeverityLabel::High
        } else if severity >= 4.0 {
            SeverityLabel::Medium
        } else {
            SeverityLabel::Low
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            SeverityLabel::Low => "Low",
            SeverityLabel::Medium => "Medium",
            SeverityLabel::High => "High",
            SeverityLabel::Critical => "Critical",
        }
    }

    pub const ALL_DESC: [SeverityLabel; 4] = [
        SeverityLabel::Critical,
        SeverityLabel::High,
        SeverityLabel::Medium,
        SeverityLabel::Low,
    ];
}

impl fmt::Display for SeverityLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_inclusive() {
        assert_eq!(SeverityLabel::of(9.0), SeverityLabel::Critical);
        assert_eq!(SeverityLabel::of(8.9), SeverityLabel::High);
        assert_eq!(SeverityLabel::of(7.0), SeverityLabel::High);
        assert_eq!(SeverityLabel::of(6.99), SeverityLabel::Medium);
        assert_eq!(SeverityLabel::of(4.0), SeverityLabel::Medium);
        assert_eq!(SeverityLabel::of(3.9), SeverityLabel::Low);
        assert_eq!(SeverityLabel::of(0.0), SeverityLabel::Low);
    }
}
