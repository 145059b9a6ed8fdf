#![allow(deprecated)] // solana-program-test 3.x API, see tests/src/lib.rs
//! Runs every attack cell (`ballast_tests::attacks::CELLS`) in the three modes and writes the
//! matrix into `docs/security.md` between its markers: instruction × attack class → the
//! scenario's name and whether it held in each mode. Generated, never edited by hand, so a cell
//! cannot claim a test that does not exist.
use std::panic::{catch_unwind, AssertUnwindSafe};

use ballast_tests::attacks::{instructions_without_a_cell, CELLS};
use ballast_tests::Mode;

fn main() {
    let modes = [("native", Mode::Native), ("SBF", Mode::Sbf), ("SBF v0 gaps", Mode::SbfV0Gaps)];
    let mut table = String::from(
        "| instruction | attack | what must happen (state unchanged on every refusal) | scenario (`tests/src/attacks.rs`) | native | SBF | SBF v0 gaps |\n|---|---|---|---|---|---|---|\n",
    );
    let mut failures = 0;
    for cell in CELLS {
        let mut outcomes = Vec::new();
        for (_, mode) in modes {
            let held = catch_unwind(AssertUnwindSafe(|| {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on((cell.run)(mode))
            }))
            .is_ok();
            failures += usize::from(!held);
            outcomes.push(if held { "held" } else { "**FAILED**" });
        }
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
    let path = format!("{}/../docs/security.md", env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(&path).unwrap();
    let (begin, end) = ("<!-- matrix:begin -->", "<!-- matrix:end -->");
    let i = doc.find(begin).expect("matrix markers") + begin.len();
    let j = doc.find(end).expect("matrix markers");
    std::fs::write(&path, format!("{}\n{}{}", &doc[..i], table, &doc[j..])).unwrap();
    eprintln!("wrote {path}: {} cells, {failures} failed", CELLS.len());
    std::process::exit(i32::from(failures > 0));
}
