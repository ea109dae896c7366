//! The latency chart of the last minute: mean and max per half second, in SVG
//! with a fixed box so nothing around it moves.

use leptos::prelude::*;

use crate::components::format;
use crate::lab::Lab;

const W: f64 = 600.0;
const H: f64 = 120.0;

#[component]
pub fn LatencyChart() -> impl IntoView {
    let lab = expect_context::<Lab>();
    let paths = Memo::new(move |_| {
        let now = lab.now_ms.get();
        let t = lab.active.get();
        lab.metrics.with(|m| m.get(t).chart(now, W, H))
    });
    // Labels sit in HTML over the SVG: the SVG stretches to its box, text must not.
    view! {
        <figure class="chart" data-testid="latency-chart">
            <div class="chart-box">
                <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label="Latency over the last minute">
                    <line x1="0" y1=H / 2.0 x2=W y2=H / 2.0 class="grid"/>
                    <line x1="0" y1=H x2=W y2=H class="axis"/>
                    <path d=move || paths.get().1 class="line-max"/>
                    <path d=move || paths.get().0 class="line-mean"/>
                </svg>
                <span class="chart-label top">{move || format::ms(paths.get().2)}</span>
            </div>
            <div class="chart-axis"><span>"−60 s"</span><span>"now"</span></div>
            <figcaption><span class="key mean">"mean"</span>" "<span class="key max">"max"</span>" per half second"</figcaption>
        </figure>
    }
}
