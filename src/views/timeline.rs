//! `--timeline OUT.svg`: a picture of the run: one lane per process, bars coloured by state
//! (running, waiting, zombie), arrows for fork/spawn and for the parent collecting the child.

use super::{duration, Run};
use crate::views::record::Made;
use std::fmt::Write as _;

const LABEL_WIDTH: f64 = 300.0;
const PLOT_WIDTH: f64 = 900.0;
const LANE: f64 = 22.0;
const GAP: f64 = 6.0;
const TOP: f64 = 56.0;

const RUNNING: &str = "#43a047";
const WAITING: &str = "#90caf9";
const ZOMBIE: &str = "#e53935";

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Where times and lanes go on the picture.
struct Scale {
    t0: f64,
    span: f64,
}

impl Scale {
    fn x(&self, t: f64) -> f64 {
        LABEL_WIDTH + (t - self.t0) / self.span * PLOT_WIDTH
    }

    fn y(&self, lane: usize) -> f64 {
        TOP + lane as f64 * (LANE + GAP)
    }
}

/// The timeline as an SVG document.
pub fn render(run: &Run) -> String {
    let order = run.tree_order();
    let scale = Scale {
        t0: run.t0,
        span: (run.t1 - run.t0).max(1e-6),
    };
    let lane_of: std::collections::HashMap<usize, usize> = order
        .iter()
        .enumerate()
        .map(|(lane, &i)| (i, lane))
        .collect();
    let height = TOP + order.len() as f64 * (LANE + GAP) + 40.0;
    let mut svg = header(run, &scale, height);
    for (lane, &i) in order.iter().enumerate() {
        draw_lane(&mut svg, &scale, lane, &run.procs[i]);
    }
    draw_hosts(&mut svg, &scale, run, &order);
    // Arrows: parent to child at fork/spawn, child to parent where it was reaped.
    for &i in &order {
        let p = &run.procs[i];
        let Some(parent) = p.parent else { continue };
        let (from, to) = (scale.y(lane_of[&parent]), scale.y(lane_of[&i]));
        let (from_mid, to_mid) = (from + LANE / 2.0, to + LANE / 2.0);
        let _ = writeln!(
            svg,
            r##"<line class="spawn" x1="{0:.1}" y1="{from_mid:.1}" x2="{0:.1}" y2="{1:.1}" stroke="#555" marker-end="url(#arrow)"/>"##,
            scale.x(p.start),
            to_mid - LANE / 2.0
        );
        if let Some(reaped) = p.reaped {
            let _ = writeln!(
                svg,
                r##"<line class="join" x1="{:.1}" y1="{to_mid:.1}" x2="{:.1}" y2="{:.1}" stroke="#999" stroke-dasharray="3,2" marker-end="url(#arrow)"/>"##,
                scale.x(p.end),
                scale.x(reaped),
                if to > from { from + LANE } else { from }
            );
        }
    }
    svg.push_str("</svg>\n");
    svg
}

/// The document's start: its size, the arrow marker, the title, the legend and the time axis.
fn header(run: &Run, scale: &Scale, height: f64) -> String {
    let span = scale.span;
    let width = LABEL_WIDTH + PLOT_WIDTH + 30.0;
    let mut svg = String::new();
    let _ = writeln!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="monospace" font-size="12">"#
    );
    svg.push_str(concat!(
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse">"#,
        r##"<path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>"##,
        "\n"
    ));
    let _ = writeln!(
        svg,
        r##"<rect width="100%" height="100%" fill="#ffffff"/>"##
    );
    let _ = writeln!(
        svg,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">{} processes over {}</text>"#,
        run.procs.len(),
        escape(&duration(span))
    );
    // Legend.
    for (k, (color, label)) in [
        (RUNNING, "running"),
        (WAITING, "waiting (join, get, sleep...)"),
        (ZOMBIE, "zombie (ended, not yet reaped)"),
    ]
    .iter()
    .enumerate()
    {
        let lx = LABEL_WIDTH + k as f64 * 260.0;
        let _ = writeln!(
            svg,
            r#"<rect x="{lx}" y="30" width="14" height="10" fill="{color}"/><text x="{}" y="39">{label}</text>"#,
            lx + 18.0
        );
    }
    // Time axis.
    for k in 0..=5 {
        let t = run.t0 + span * k as f64 / 5.0;
        let tx = scale.x(t);
        let _ = writeln!(
            svg,
            r##"<line class="tick" x1="{tx:.1}" y1="{TOP}" x2="{tx:.1}" y2="{:.1}" stroke="#eeeeee"/><text x="{tx:.1}" y="{:.1}" text-anchor="middle" fill="#777">{}</text>"##,
            height - 30.0,
            height - 14.0,
            escape(&duration(t - run.t0))
        );
    }
    svg
}

/// One process's lane: its label, its running bar, its waits and its time as a zombie.
fn draw_lane(svg: &mut String, scale: &Scale, lane: usize, p: &super::ProcView) {
    let x = |t: f64| scale.x(t);
    let ly = scale.y(lane);
    let _ = writeln!(svg, r#"<g class="lane" data-pid="{}">"#, p.pid);
    let label = format!("{} {}", p.pid, p.describe());
    // The lane's label: the name first when there is one, cut to fit.
    let on = p
        .host()
        .map(|host| format!(" on {host}"))
        .unwrap_or_default();
    let short = match (p.name.is_empty(), &p.how) {
        (_, Made::Script) => format!("{} {}", p.pid, p.name),
        _ if p.link => format!(
            "{} link{} ({})",
            p.pid,
            on.replacen(" on ", " to ", 1),
            p.at
        ),
        (true, how) => format!("{} {how}{on} ({})", p.pid, p.at),
        (false, how) => format!("{} {}: {how}", p.pid, p.name),
    };
    let shown: String = match short.char_indices().nth(39) {
        Some((cut, _)) => format!("{}…", &short[..cut]),
        None => short,
    };
    let _ = writeln!(
        svg,
        r#"<text x="10" y="{:.1}"><title>{}</title>{}</text>"#,
        ly + LANE * 0.7,
        escape(&format!("{label}: {}", p.outcome)),
        escape(&shown)
    );
    let bar = |svg: &mut String, from: f64, to: f64, color: &str, title: &str| {
        let (x0, x1) = (x(from), x(to).max(x(from) + 1.0));
        let _ = writeln!(
            svg,
            r#"<rect x="{x0:.1}" y="{ly:.1}" width="{:.1}" height="{LANE}" fill="{color}"><title>{}</title></rect>"#,
            x1 - x0,
            escape(title)
        );
    };
    bar(
        svg,
        p.start,
        p.end,
        RUNNING,
        &format!("{label}: running, then {}", p.outcome),
    );
    for (from, to, what) in &p.waits {
        bar(
            svg,
            *from,
            *to,
            WAITING,
            &format!("waiting in {what} for {}", duration(to - from)),
        );
    }
    if let Some(reaped) = p.reaped {
        if reaped > p.end {
            bar(
                svg,
                p.end,
                reaped,
                ZOMBIE,
                &format!("zombie for {}", duration(reaped - p.end)),
            );
        }
    }
    svg.push_str("</g>\n");
}

/// A remote pool's lanes, host by host: a band at the left edge along the
/// lanes of each host's workers and their launchers, with the host's name.
fn draw_hosts(svg: &mut String, scale: &Scale, run: &Run, order: &[usize]) {
    let mut lane = 0;
    while lane < order.len() {
        let Some(host) = run.host_of(order[lane]) else {
            lane += 1;
            continue;
        };
        let first = lane;
        while lane < order.len() && run.host_of(order[lane]) == Some(host) {
            lane += 1;
        }
        let (top, bottom) = (scale.y(first), scale.y(lane - 1) + LANE);
        let _ = writeln!(
            svg,
            r##"<g class="host" data-host="{0}"><rect x="2" y="{top:.1}" width="4" height="{1:.1}" fill="#4a7fb5"><title>host {0}</title></rect></g>"##,
            escape(host),
            bottom - top
        );
    }
}
