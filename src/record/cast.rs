//! asciicast v2 (asciinema's format): a header line, then `[time, code, data]` events — `"o"`
//! terminal output, `"r"` a resize to `COLSxROWS` — with non-decreasing times in seconds.

use serde::Serialize;
use std::io::Write;

#[derive(Serialize)]
struct CastHeader<'a> {
    version: u32,
    width: u16,
    height: u16,
    timestamp: i64,
    title: &'a str,
    env: CastEnv,
}

#[derive(Serialize)]
struct CastEnv {
    #[serde(rename = "TERM")]
    term: &'static str,
    #[serde(rename = "SHELL")]
    shell: &'static str,
}

/// Writes an asciicast v2 file.
pub struct CastWriter<W: Write> {
    out: W,
    last: f64,
}

impl<W: Write> CastWriter<W> {
    /// Writes the header: the terminal's size, the recording's start (Unix seconds), a title.
    pub fn new(
        mut out: W,
        width: u16,
        height: u16,
        timestamp: i64,
        title: &str,
    ) -> std::io::Result<Self> {
        let header = CastHeader {
            version: 2,
            width,
            height,
            timestamp,
            title,
            env: CastEnv {
                term: "xterm-256color",
                shell: "/bin/sh",
            },
        };
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        Ok(CastWriter { out, last: 0.0 })
    }

    fn event(&mut self, t: f64, code: &str, data: &str) -> std::io::Result<()> {
        // Times never go back, even if the caller's clock did.
        let t = t.max(self.last);
        self.last = t;
        let line = serde_json::to_string(&(((t * 1e6).round() / 1e6), code, data))?;
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    /// Terminal output at `t` seconds.
    pub fn output(&mut self, t: f64, data: &str) -> std::io::Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        self.event(t, "o", data)
    }

    pub fn resize(&mut self, t: f64, width: u16, height: u16) -> std::io::Result<()> {
        self.event(t, "r", &format!("{width}x{height}"))
    }

    pub fn finish(mut self) -> std::io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
