//! `--tree`: the processes that ran, drawn as a tree: how each was made, how it ended, how long it lived.

use super::{duration, Run};

/// The tree as text, one process a line, children indented under their parent.
pub fn render(run: &Run) -> String {
    let mut out = String::from("processes that ran:\n");
    let roots: Vec<usize> = (0..run.procs.len())
        .filter(|&i| run.procs[i].parent.is_none())
        .collect();
    for &root in &roots {
        line(run, root, "", "", &mut out);
    }
    if run.lost > 0 {
        out.push_str(&format!("({} events were not recorded)\n", run.lost));
    }
    out
}

fn line(run: &Run, i: usize, first: &str, rest: &str, out: &mut String) {
    let p = &run.procs[i];
    out.push_str(&format!(
        "{first}{} {}, {}, lived {}\n",
        p.pid,
        p.describe(),
        p.outcome,
        duration(p.end - p.start)
    ));
    let n = p.children.len();
    for (k, &c) in p.children.iter().enumerate() {
        let last = k + 1 == n;
        let (branch, indent) = if last {
            ("└── ", "    ")
        } else {
            ("├── ", "│   ")
        };
        line(
            run,
            c,
            &format!("{rest}{branch}"),
            &format!("{rest}{indent}"),
            out,
        );
    }
}
