//! `netsim-relay`: one [`netsim::Relay`] as a process, for runners in other languages.
//!
//! ```text
//! netsim-relay --target 127.0.0.1:PORT [--loss PCT] [--delay-ms MS] [--loss-after-ms N]
//!              [--seed N] [--max-seconds S]
//! ```
//! Binds 127.0.0.1 on a free port and prints `PORT <n>` on stdout. `--loss` and `--delay-ms`
//! apply each way; the loss starts at once, or `--loss-after-ms` after the start. It then reads
//! commands on stdin, one a line:
//!
//! - `loss PCT`: set the loss each way (e.g. `loss 10` once the peers are connected)
//! - `delay MS`: set the delay each way
//! - `cut` / `heal`: drop everything / stop doing so
//! - `stats`: print `STATS {"to_target":{...},"from_target":{...}}` (see `RelayStats::to_json`)
//!
//! It exits when stdin closes (so it never outlives the process that started it) or after
//! `--max-seconds` (default 300).

use netsim::{Relay, RelayConfig};
use std::io::{BufRead, Write};
use std::net::SocketAddr;
use std::time::Duration;

struct Args {
    target: SocketAddr,
    loss: f64,
    delay_ms: f64,
    loss_after_ms: Option<u64>,
    seed: u64,
    max_seconds: u64,
}

const USAGE: &str = "usage: netsim-relay --target IP:PORT [--loss PCT] [--delay-ms MS] [--loss-after-ms N] [--seed N] [--max-seconds S]";

fn parse() -> Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut a = Args { target: SocketAddr::from(([0, 0, 0, 0], 0)), loss: 0.0, delay_ms: 0.0, loss_after_ms: None, seed: 1, max_seconds: 300 };
    let mut target = None;
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("target") => target = Some(parser.value()?.parse()?),
            Long("loss") => a.loss = parser.value()?.parse()?,
            Long("delay-ms") => a.delay_ms = parser.value()?.parse()?,
            Long("loss-after-ms") => a.loss_after_ms = Some(parser.value()?.parse()?),
            Long("seed") => a.seed = parser.value()?.parse()?,
            Long("max-seconds") => a.max_seconds = parser.value()?.parse()?,
            Long("help") | Short('h') => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    a.target = target.ok_or("--target is required")?;
    // `contains` is false for NaN too.
    if !(0.0..=100.0).contains(&a.loss) || !(0.0..=3_600_000.0).contains(&a.delay_ms) {
        return Err("--loss must be 0..100 and --delay-ms 0..3600000".into());
    }
    Ok(a)
}

fn main() {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("netsim-relay: {e}\n{USAGE}");
            std::process::exit(2);
        }
    };
    let delay = Duration::from_secs_f64(args.delay_ms / 1000.0);
    let first_loss = if args.loss_after_ms.is_some() { 0.0 } else { args.loss };
    let relay = match Relay::start(args.target, RelayConfig::symmetric(first_loss, delay).seed(args.seed)) {
        Ok(r) => std::sync::Arc::new(r),
        Err(e) => {
            eprintln!("netsim-relay: cannot bind: {e}");
            std::process::exit(1);
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "PORT {}", relay.port());
    let _ = out.flush();

    if let Some(ms) = args.loss_after_ms {
        let (r, loss) = (relay.clone(), args.loss);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            r.set_loss_pct(loss);
        });
    }
    let limit = args.max_seconds;
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_secs(limit));
        eprintln!("netsim-relay: --max-seconds {limit} reached, exiting");
        std::process::exit(0);
    });

    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let mut words = line.split_whitespace();
        let command = words.next();
        let number = words.next().and_then(|v| v.parse::<f64>().ok()).filter(|v| *v >= 0.0);
        match (command, number) {
            (Some("loss"), Some(pct)) => relay.set_loss_pct(pct),
            (Some("delay"), Some(ms)) if ms <= 3_600_000.0 => relay.set_delay(Duration::from_secs_f64(ms / 1000.0)),
            (Some("cut"), _) => relay.cut(),
            (Some("heal"), _) => relay.heal(),
            (Some("stats"), _) => {
                let _ = writeln!(out, "STATS {}", relay.stats().to_json());
                let _ = out.flush();
            }
            (None, _) => {}
            _ => eprintln!("netsim-relay: unknown command {line:?} (loss PCT | delay MS | cut | heal | stats)"),
        }
    }
}
