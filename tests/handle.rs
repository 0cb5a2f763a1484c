//! The framework-free request handle that every adapter drives.

#![allow(clippy::unwrap_used, reason = "test code: a panic is a failed test")]

use std::sync::Arc;

use sealed_session::{
    CookiePolicy, ErrorKind, KeyId, Keyring, ManualClock, Session, Sessions, SetCookie,
};
use time::Duration;

fn setup(chunks: usize) -> (Sessions, ManualClock) {
    let clock = ManualClock::at_unix(1_764_000_000);
    let codec =
        Sessions::builder(Keyring::generate(KeyId(1)).unwrap()).clock(Arc::new(clock.clone()));
    let policy = CookiePolicy::builder()
        .chunked(chunks)
        .set_cookie_budget(1 << 20)
        .build()
        .unwrap();
    (codec.cookie(policy).build().unwrap(), clock)
}

/// A browser's view: the Cookie header after applying `set` to `jar`.
fn apply(jar: &mut Vec<(String, String)>, set: &[SetCookie]) -> String {
    for c in set {
        jar.retain(|(n, _)| n != c.name());
        if !c.is_removal() {
            jar.push((c.name().to_owned(), c.value().to_owned()));
        }
    }
    jar.iter()
        .map(|(n, v)| format!("{n}={v}"))
        .collect::<Vec<_>>()
        .join("; ")
}

#[test]
fn writes_only_when_needed() {
    let (cookies, clock) = setup(1);
    let mut jar = Vec::new();
    let h = Session::<u32>::load(&cookies, []);
    assert_eq!(h.get(), None);
    assert!(
        h.finish().unwrap().is_empty(),
        "no session, nothing carried: nothing to write"
    );

    let h = Session::<u32>::load(&cookies, []);
    h.insert(1);
    let set = h.finish().unwrap();
    assert_eq!(set.len(), 1);
    let header = apply(&mut jar, &set);

    // Read-only request: no Set-Cookie.
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    assert_eq!(h.get(), Some(1));
    assert!(h.finish().unwrap().is_empty());

    // Renewal due: re-sealed without any change by the handler.
    clock.advance(Duration::minutes(6));
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    let set = h.finish().unwrap();
    assert_eq!(set.len(), 1);
    assert_ne!(set[0].value(), jar[0].1);
    let header = apply(&mut jar, &set);

    // A change: written.
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    h.update(|n| *n += 1);
    let header = apply(&mut jar, &h.finish().unwrap());
    assert_eq!(
        Session::<u32>::load(&cookies, [header.as_str()]).get(),
        Some(2)
    );
}

#[test]
fn clear_and_refused_cookies_get_removals() {
    let (cookies, _clock) = setup(1);
    let mut jar = Vec::new();
    let h = Session::<String>::load(&cookies, []);
    h.insert("ada".into());
    let header = apply(&mut jar, &h.finish().unwrap());

    let h = Session::<String>::load(&cookies, [header.as_str()]);
    assert_eq!(h.remove().as_deref(), Some("ada"));
    let set = h.finish().unwrap();
    assert_eq!(set.len(), 1);
    assert!(set[0].is_removal());
    assert!(set[0].header_value().contains("Max-Age=0"));

    let v = &jar[0].1;
    let flipped = if &v[40..41] == "A" { "B" } else { "A" };
    let tampered = format!("{}={}{flipped}{}", jar[0].0, &v[..40], &v[41..]);
    let h = Session::<String>::load(&cookies, [tampered.as_str()]);
    assert_eq!(h.get(), None);
    assert_eq!(h.refusal(), Some(ErrorKind::Unauthenticated));
    assert_eq!(h.refused_key_id(), Some(KeyId(1)));
    let set = h.finish().unwrap();
    assert!(set.len() == 1 && set[0].is_removal());
    // A fresh session replaces the refused cookie in the same response.
    let h = Session::<String>::load(&cookies, [tampered.as_str()]);
    h.insert("new".into());
    let set = h.finish().unwrap();
    assert!(set.len() == 1 && !set[0].is_removal());
}

#[test]
fn regenerate_changes_the_id_and_keeps_the_data() {
    let (cookies, _clock) = setup(1);
    let mut jar = Vec::new();
    let h = Session::<u32>::load(&cookies, []);
    h.insert(7);
    let header = apply(&mut jar, &h.finish().unwrap());
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    let before = h.meta().unwrap().id();
    let token = h.csrf_token().unwrap();
    assert!(h.verify_csrf(&token));
    h.regenerate(Some("user-1")).unwrap();
    assert!(!h.verify_csrf(&token), "the token follows the session id");
    let header = apply(&mut jar, &h.finish().unwrap());
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    let meta = h.meta().unwrap();
    assert_ne!(meta.id(), before);
    assert_eq!(meta.subject(), Some("user-1"));
    assert_eq!(h.get(), Some(7));
}

#[test]
fn chunk_count_changes_remove_stale_chunks_and_flush_reports_too_large() {
    let (cookies, _clock) = setup(4);
    let mut jar = Vec::new();
    let h = Session::<String>::load(&cookies, []);
    h.insert("x".repeat(5000));
    let header = apply(&mut jar, &h.finish().unwrap());
    assert_eq!(
        jar.len(),
        2,
        "{:?}",
        jar.iter().map(|c| &c.0).collect::<Vec<_>>()
    );
    let h = Session::<String>::load(&cookies, [header.as_str()]);
    assert_eq!(h.get().map(|s| s.len()), Some(5000));
    h.insert("small".into());
    let set = h.finish().unwrap();
    let header = apply(&mut jar, &set);
    assert_eq!(jar.len(), 1, "the chunks are removed");
    assert_eq!(set.iter().filter(|c| c.is_removal()).count(), 2);
    let h = Session::<String>::load(&cookies, [header.as_str()]);
    assert_eq!(h.get().as_deref(), Some("small"));
    h.insert("x".repeat(100_000));
    assert_eq!(h.flush().unwrap_err().kind(), ErrorKind::TooLarge);
    h.insert("fits".into());
    h.flush().unwrap();
    assert_eq!(h.finish().unwrap().len(), 1);
}

/// The first visit of the README's axum example: a page renders a form with
/// `csrf_token()` before anything is stored. The token must verify on the
/// next request (0.1 handed out a token and saved no session, so every
/// first-time visitor's form post was refused).
#[test]
fn a_token_handed_out_before_any_data_verifies_on_the_next_request() {
    #[derive(serde::Serialize, serde::Deserialize, Clone, PartialEq, Debug)]
    struct User {
        name: String,
    }
    let (cookies, _) = setup(1);
    let mut jar = Vec::new();
    let first = Session::<User>::load(&cookies, []);
    let token = first.csrf_token().unwrap();
    let again = first.csrf_token().unwrap();
    assert_ne!(again, token, "masked afresh on every rendering");
    let set = first.finish().unwrap();
    assert_eq!(
        set.len(),
        1,
        "the session id is sealed so the token survives"
    );
    let header = apply(&mut jar, &set);

    let second = Session::<User>::load(&cookies, [header.as_str()]);
    assert_eq!(second.refusal(), None);
    assert!(second.verify_csrf(&token));
    assert!(second.verify_csrf(&again));
    assert_eq!(second.get(), None, "no data yet");
    assert!(
        second.finish().unwrap().is_empty(),
        "unchanged: no Set-Cookie"
    );

    // Storing data later keeps the id (and so the token).
    let third = Session::<User>::load(&cookies, [header.as_str()]);
    third.insert(User { name: "ada".into() });
    let header = apply(&mut jar, &third.finish().unwrap());
    let fourth = Session::<User>::load(&cookies, [header.as_str()]);
    assert!(fourth.verify_csrf(&token));
    assert_eq!(fourth.get().map(|u| u.name), Some("ada".into()));

    // The strict header-level API does not mistake the empty payload for
    // a `User`.
    let third_header = apply(&mut Vec::new(), &set);
    let strict = cookies.open::<User>([third_header.as_str()]);
    assert_eq!(strict.refusal, Some(ErrorKind::PayloadMismatch));
}

/// "Remember me" per sign-in: the handle's choice overrides the policy for
/// the cookies this response writes; the next renewal writes the policy's
/// persistence again unless the handler chooses again (documented).
#[test]
fn persistence_is_chosen_per_response() {
    let (cookies, clock) = setup(1);
    let mut jar = Vec::new();
    let h = Session::<u32>::load(&cookies, []);
    h.insert(1);
    h.set_persistence(sealed_session::Persistence::UntilExpiry);
    let set = h.finish().unwrap();
    assert_eq!(set[0].max_age(), Some(12 * 3600), "persistent this time");
    let header = apply(&mut jar, &set);

    // A request that only reads writes nothing, so the browser keeps it.
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    assert!(h.finish().unwrap().is_empty());

    // The renewal after 5 minutes writes the policy's default again...
    clock.advance(Duration::minutes(6));
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    assert_eq!(h.finish().unwrap()[0].max_age(), None);
    // ...unless the handler chooses again.
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    h.set_persistence(sealed_session::Persistence::UntilExpiry);
    let max_age = h.finish().unwrap()[0].max_age().unwrap();
    assert!(max_age < 12 * 3600 && max_age > 11 * 3600, "{max_age}");
}

/// A revoked session's id reaches the handler, so it can end it elsewhere.
#[test]
fn the_refused_session_id_is_on_the_handle() {
    let revocation = Arc::new(sealed_session::MemoryRevocation::new(16));
    let clock = ManualClock::at_unix(1_764_000_000);
    let cookies = Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
        .clock(Arc::new(clock.clone()))
        .revocation(revocation.clone())
        .build()
        .unwrap();
    let h = Session::<u32>::load(&cookies, []);
    h.insert(7);
    let header = apply(&mut Vec::new(), &h.finish().unwrap());
    let id = Session::<u32>::load(&cookies, [header.as_str()])
        .meta()
        .unwrap()
        .id();
    let now = sealed_session::Clock::now(&clock);
    revocation
        .revoke_session(&id, now + Duration::hours(12), now)
        .unwrap();
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    assert_eq!(h.refusal(), Some(ErrorKind::Revoked));
    assert_eq!(h.refused_session_id(), Some(id));
    assert_eq!(h.get(), None);
    let fresh = Session::<u32>::load(&cookies, []);
    assert_eq!(fresh.refused_session_id(), None);
}

/// A single-use value in the session cookie's place is no session, through
/// the request-level API too (the adapters use it).
#[test]
fn a_single_use_value_is_no_session_cookie() {
    let clock = ManualClock::at_unix(1_764_000_000);
    let cookies = Sessions::builder(Keyring::generate(KeyId(1)).unwrap())
        .clock(Arc::new(clock))
        .replay_guard(Arc::new(sealed_session::MemoryReplayGuard::new(16)))
        .build()
        .unwrap();
    let link = cookies.codec().seal_single_use(&7u32).unwrap();
    let header = format!("{}={link}", cookies.policy().name());
    let h = Session::<u32>::load(&cookies, [header.as_str()]);
    assert_eq!(h.refusal(), Some(ErrorKind::WrongKind));
    assert_eq!(h.get(), None);
    assert!(h.finish().unwrap()[0].is_removal());
}
