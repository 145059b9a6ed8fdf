#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! Runs every attack cell (`ballast_tests::attacks::CELLS`) in the three modes and writes the
//! matrix into `docs/security.md` between its markers: instruction × attack class → the
//! scenario's name and whether it held in each mode. Generated, never edited by hand, so a cell
//! cannot claim a test that does not exist.
use std::panic::{catch_unwind, AssertUnwindSafe};

use ballast_tests::attacks::{instructions_without_a_cell, CELLS};
use ballast_tests::time_events;
use ballast_tests::Mode;

/// Runs `run` in each mode of `modes`, a fresh runtime each, and says whether it held.
fn outcomes(
    modes: &[(&str, Mode)],
    run: impl Fn(Mode) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()>>>,
) -> Vec<bool> {
    modes
        .iter()
        .map(|&(_, mode)| {
            catch_unwind(AssertUnwindSafe(|| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(run(mode))
            }))
            .is_ok()
        })
        .collect()
}

fn held(ok: bool) -> &'static str {
    if ok {
        "held"
    } else {
        "**FAILED**"
    }
}

/// Replaces the text between `<!-- {name}:begin -->` and `<!-- {name}:end -->` in `doc`.
fn splice(doc: &str, name: &str, table: &str) -> String {
    let (begin, end) = (format!("<!-- {name}:begin -->"), format!("<!-- {name}:end -->"));
    let i = doc.find(&begin).unwrap_or_else(|| panic!("{begin} marker")) + begin.len();
    let j = doc.find(&end).unwrap_or_else(|| panic!("{end} marker"));
    format!("{}\n{}{}", &doc[..i], table, &doc[j..])
}

/// The time-events matrix (issue 24): one row per (event, action), the outcome per mode.
fn time_events_table(modes: &[(&str, Mode)], failures: &mut usize) -> String {
    let mut table = String::from(
        "| event | action | what must happen (state unchanged on every refusal) | native | SBF | SBF v0 gaps |\n|---|---|---|---|---|---|\n",
    );
    let cells = time_events::cells();
    for cell in &cells {
        let outcomes = outcomes(modes, |m| cell.run(m));
        *failures += outcomes.iter().filter(|ok| !**ok).count();
        let shown: Vec<&str> = outcomes.iter().map(|ok| held(*ok)).collect();
        table.push_str(&format!(
            "| {} | {} | {} | {} |\n",
            cell.event_text,
            cell.action_text,
            time_events::expected(cell.event, cell.action),
            shown.join(" | ")
        ));
    }
    table.push_str(&format!(
        "\n{} cells: {} events × {} actions (`tests/src/time_events.rs`).\n",
        cells.len(),
        time_events::EVENTS.len(),
        time_events::ACTIONS.len()
    ));
    table
}

fn main() {
    let modes = [("native", Mode::Native), ("SBF", Mode::Sbf), ("SBF v0 gaps", Mode::SbfV0Gaps)];
    let mut table = String::from(
        "| instruction | attack | what must happen (state unchanged on every refusal) | scenario (`tests/src/attacks.rs`) | native | SBF | SBF v0 gaps |\n|---|---|---|---|---|---|---|\n",
    );
    let mut failures = 0;
    for cell in CELLS {
        let outcomes: Vec<&str> = outcomes(&modes, cell.run).into_iter().map(held).collect();
        failures += outcomes.iter().filter(|o| **o != "held").count();
        table.push_str(&format!(
            "| `{}` | {} | {} | `{}` | {} | {} | {} |\n",
            cell.instruction, cell.class, cell.expected, cell.name, outcomes[0], outcomes[1], outcomes[2]
        ));
    }
    let uncovered = instructions_without_a_cell();
    let instructions =
        CELLS.iter().flat_map(|c| c.instruction.split(" / ")).collect::<std::collections::BTreeSet<_>>();
    table.push_str(&format!(
        "\n{} cells over {} instructions; instructions of `idl/ballast.json` with no cell: {}.\n",
        CELLS.len(),
        instructions.len(),
        if uncovered.is_empty() { "none".to_string() } else { uncovered.join(", ") }
    ));
    failures += uncovered.len();
    let time_table = time_events_table(&modes, &mut failures);
    let path = format!("{}/../docs/security.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap();
    let doc = splice(&doc, "matrix", &table);
    std::fs::write(&path, splice(&doc, "time-events", &time_table)).unwrap();
    eprintln!(
        "wrote {path}: {} attack cells, {} time-event cells, {failures} failed",
        CELLS.len(),
        time_events::cells().len()
    );
    std::process::exit(i32::from(failures > 0));
}
