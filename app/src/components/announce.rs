//! What the instructor just did, in words, on every page: a red badge alone
//! does not tell a room why its stream changed.

use leptos::prelude::*;

use crate::components::format;
use crate::lab::Lab;

#[component]
pub fn AnnouncementBanner() -> impl IntoView {
    let lab = expect_context::<Lab>();
    view! {
        <div class="announce" role="status" aria-live="polite" data-testid="announcement">
            {move || lab.announcement.get().map(|a| view! {
                <span class="announce-when">"Instructor · "{format::clock(a.at_ms)}</span>
                <span class="announce-text" data-testid="announcement-text" data-live=a.live.to_string()>{a.text}</span>
            })}
        </div>
    }
}
