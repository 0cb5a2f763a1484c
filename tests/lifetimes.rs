//! Time rules through the public API, with a manual clock at each boundary:
//! absolute, idle, renewal, skew, regeneration, revocation, replay.

#![allow(
    clippy::unwrap_used,
    clippy::cast_possible_truncation,
    reason = "test code: a panic is a failed test"
)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use sealed_session::{
    ErrorKind, Key, KeyId, Keyring, Lifetime, ManualClock, MemoryReplayGuard, MemoryRevocation,
    ResealReason, SessionCodec, SessionCodecBuilder,
};
use time::Duration;

const T0: i64 = 1_764_000_000;

fn keys() -> Keyring {
    Keyring::new(KeyId(1), Key::from_bytes(&[1; 32]).unwrap())
}

fn setup() -> (SessionCodecBuilder, ManualClock) {
    let clock = ManualClock::at_unix(T0);
    (
        SessionCodec::builder(keys()).clock(Arc::new(clock.clone())),
        clock,
    )
}

fn secs(d: Duration) -> i64 {
    d.whole_seconds()
}

#[test]
fn absolute_lifetime_boundary_and_renewal_never_extends_it() {
    let (b, clock) = setup();
    let c = b.build().unwrap();
    let l = *c.lifetime();
    let mut value = c.seal(&0u32).unwrap();
    // Keep the session busy: re-seal whenever asked, every minute.
    let end = T0 + secs(l.absolute);
    let mut resealed = 0;
    for t in (T0..end).step_by(60) {
        clock.set_unix(t);
        let opened = c.open::<u32>(&value).unwrap();
        assert_eq!(
            opened.meta.expires().unix_timestamp(),
            end,
            "deadline fixed at creation"
        );
        assert!(opened.idle_deadline().unix_timestamp() <= end);
        if opened.reseal_due().is_some() {
            value = c.seal_session(&opened.meta, &(opened.data + 1)).unwrap();
            resealed += 1;
        }
    }
    // Written at most once per renewal interval, not on every request.
    let max = (secs(l.absolute) / secs(l.renew_after)) as usize;
    assert!(
        resealed <= max && resealed >= max - 1,
        "{resealed} re-seals, interval bound {max}"
    );
    clock.set_unix(end - 1);
    assert!(c.open::<u32>(&value).is_ok(), "one second before");
    clock.set_unix(end);
    assert_eq!(
        c.open::<u32>(&value).unwrap_err().kind(),
        ErrorKind::Expired,
        "at"
    );
    clock.set_unix(end + 1);
    assert_eq!(
        c.open::<u32>(&value).unwrap_err().kind(),
        ErrorKind::Expired,
        "after"
    );
}

#[test]
fn idle_timeout_boundary_and_renewal_interval() {
    let (b, clock) = setup();
    let c = b.build().unwrap();
    let l = *c.lifetime();
    let value = c.seal(&1u8).unwrap();
    clock.set_unix(T0 + secs(l.renew_after) - 1);
    assert_eq!(c.open::<u8>(&value).unwrap().reseal_due(), None);
    clock.set_unix(T0 + secs(l.renew_after));
    assert_eq!(
        c.open::<u8>(&value).unwrap().reseal_due(),
        Some(ResealReason::Renewal)
    );
    clock.set_unix(T0 + secs(l.idle) - 1);
    let opened = c.open::<u8>(&value).unwrap();
    assert_eq!(opened.idle_deadline().unix_timestamp(), T0 + secs(l.idle));
    // Activity at idle-1 renews: the new value lives a full idle period from now.
    let renewed = c.seal_session(&opened.meta, &opened.data).unwrap();
    clock.set_unix(T0 + secs(l.idle));
    assert_eq!(
        c.open::<u8>(&value).unwrap_err().kind(),
        ErrorKind::IdleExpired
    );
    assert!(c.open::<u8>(&renewed).is_ok());
    clock.set_unix(T0 + secs(l.idle) + 1);
    assert_eq!(
        c.open::<u8>(&value).unwrap_err().kind(),
        ErrorKind::IdleExpired
    );
    // The renewed value was sealed at idle-1, so it dies at 2*idle-1.
    clock.set_unix(T0 + 2 * secs(l.idle) - 2);
    assert!(c.open::<u8>(&renewed).is_ok());
    clock.set_unix(T0 + 2 * secs(l.idle) - 1);
    assert_eq!(
        c.open::<u8>(&renewed).unwrap_err().kind(),
        ErrorKind::IdleExpired
    );
}

#[test]
fn clock_skew_between_servers_both_ways() {
    // Server A's clock runs ahead of server B's.
    let (a, clock_a) = setup();
    let a = a.build().unwrap();
    let (b, clock_b) = setup();
    let b = b.build().unwrap();
    let skew = secs(b.lifetime().skew);
    for (ahead, ok) in [(skew - 1, true), (skew, true), (skew + 1, false)] {
        clock_a.set_unix(T0 + ahead);
        clock_b.set_unix(T0);
        let value = a.seal(&1u8).unwrap();
        let got = b.open::<u8>(&value);
        assert_eq!(got.is_ok(), ok, "A ahead by {ahead}s");
        if !ok {
            assert_eq!(got.unwrap_err().kind(), ErrorKind::NotYetValid);
        }
    }
    // B ahead of A: A's value is simply older; the idle rule applies unchanged.
    clock_a.set_unix(T0);
    let value = a.seal(&1u8).unwrap();
    clock_b.set_unix(T0 + 600);
    assert!(b.open::<u8>(&value).is_ok());
    // A value from 10 minutes in the future is refused with the default skew.
    clock_a.set_unix(T0 + 600);
    let value = a.seal(&1u8).unwrap();
    clock_b.set_unix(T0);
    assert_eq!(
        b.open::<u8>(&value).unwrap_err().kind(),
        ErrorKind::NotYetValid
    );
}

#[test]
fn a_raw_client_replaying_past_max_age_is_refused_by_the_sealed_deadline() {
    let (b, clock) = setup();
    let mut hour = Lifetime::default();
    hour.absolute = Duration::hours(1);
    hour.idle = Duration::hours(1);
    let c = b.lifetime(hour).build().unwrap();
    let value = c.seal(&1u8).unwrap();
    // A browser would have dropped the cookie at Max-Age; a raw client keeps sending it.
    clock.advance(Duration::hours(1));
    assert_eq!(c.open::<u8>(&value).unwrap_err().kind(), ErrorKind::Expired);
}

#[test]
fn regeneration_gives_a_new_id_and_creation_time() {
    let (b, clock) = setup();
    let c = b.build().unwrap();
    let opened = c.open::<String>(&c.seal("cart").unwrap()).unwrap();
    clock.advance(Duration::minutes(20));
    let fresh = c.regenerate(&opened.meta, Some("user-1")).unwrap();
    assert_ne!(fresh.id(), opened.meta.id());
    assert_eq!(fresh.created().unix_timestamp(), T0 + 1200);
    assert_eq!(fresh.expires().unix_timestamp(), T0 + 1200 + 12 * 3600);
    assert_eq!(fresh.generation(), 0);
    // Keeping the data: seal the old data under the new metadata.
    let value = c.seal_session(&fresh, &opened.data).unwrap();
    let again = c.open::<String>(&value).unwrap();
    assert_eq!(again.data, "cart");
    assert_eq!(again.meta.subject(), Some("user-1"));
    assert_eq!(again.meta.id(), fresh.id());
    // Dropping the data: seal anything else.
    let value = c.seal_session(&fresh, &String::new()).unwrap();
    assert_eq!(c.open::<String>(&value).unwrap().data, "");
}

#[test]
fn revocation_per_subject_and_per_session() {
    let (b, clock) = setup();
    let revoked = Arc::new(MemoryRevocation::new(100));
    let c = b.revocation(revoked.clone()).build().unwrap();
    let alice = c
        .seal_session(&c.new_session(Some("alice")).unwrap(), &1u8)
        .unwrap();
    let alice2 = c
        .seal_session(&c.new_session(Some("alice")).unwrap(), &2u8)
        .unwrap();
    let bob = c
        .seal_session(&c.new_session(Some("bob")).unwrap(), &3u8)
        .unwrap();
    clock.advance(Duration::seconds(10));
    // Log alice out everywhere (for example after a password change).
    revoked.revoke_subject("alice", c.now()).unwrap();
    for v in [&alice, &alice2] {
        let err = c.open::<u8>(v).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Revoked);
        assert!(err.session_id().is_some());
    }
    assert!(c.open::<u8>(&bob).is_ok(), "other users are unaffected");
    // A sign-in within the skew after the cut-off is refused too (a
    // server whose clock runs ahead must not dodge it); after it, it works.
    let too_soon = c
        .seal_session(&c.new_session(Some("alice")).unwrap(), &4u8)
        .unwrap();
    assert_eq!(
        c.open::<u8>(&too_soon).unwrap_err().kind(),
        ErrorKind::Revoked
    );
    clock.advance(c.lifetime().skew);
    let alice3 = c
        .seal_session(&c.new_session(Some("alice")).unwrap(), &4u8)
        .unwrap();
    assert!(c.open::<u8>(&alice3).is_ok());
    // Deny one session by id: every encoding of it is refused, re-seals included.
    let opened = c.open::<u8>(&bob).unwrap();
    let bob_resealed = c.seal_session(&opened.meta, &opened.data).unwrap();
    revoked
        .revoke_session(&opened.meta.id(), opened.meta.expires(), c.now())
        .unwrap();
    assert_eq!(c.open::<u8>(&bob).unwrap_err().kind(), ErrorKind::Revoked);
    assert_eq!(
        c.open::<u8>(&bob_resealed).unwrap_err().kind(),
        ErrorKind::Revoked
    );
}

#[test]
fn without_a_store_a_copied_cookie_stays_valid_until_it_expires() {
    // The documented limit of stateless sessions (RFC 6265bis §8.3).
    let (b, _clock) = setup();
    let c = b.build().unwrap();
    let value = c.seal(&1u8).unwrap();
    let copy = value.clone();
    let opened = c.open::<u8>(&value).unwrap();
    let _logged_out = c.seal_session(&opened.meta, &0u8).unwrap();
    assert!(c.open::<u8>(&copy).is_ok());
}

#[test]
fn single_use_seals_open_once_within_their_window() {
    let (b, clock) = setup();
    let guard = Arc::new(MemoryReplayGuard::new(100));
    let c = b.replay_guard(guard).build().unwrap();
    let window = secs(c.lifetime().single_use_window);
    let state = c.seal_single_use("oauth-state-xyz").unwrap();
    assert_eq!(
        c.open_single_use::<String>(&state).unwrap().reseal_due(),
        None
    );
    let err = c.open_single_use::<String>(&state).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);
    // After the window: refused by age (even if never used).
    let unused = c.seal_single_use("other").unwrap();
    clock.advance(Duration::seconds(window - 1));
    let unused2 = c.seal_single_use("third").unwrap();
    clock.advance(Duration::seconds(1));
    assert_eq!(
        c.open_single_use::<String>(&unused).unwrap_err().kind(),
        ErrorKind::Expired
    );
    assert!(c.open_single_use::<String>(&unused2).is_ok());
    // Without a guard, single-use seals cannot be made, and are refused on open.
    let (b, _) = setup();
    let no_guard = b.build().unwrap();
    assert_eq!(
        no_guard.seal_single_use(&1u8).unwrap_err().kind(),
        ErrorKind::NotConfigured
    );
    let (b, _) = setup();
    let c2 = b
        .replay_guard(Arc::new(MemoryReplayGuard::new(4)))
        .build()
        .unwrap();
    let v = c2.seal_single_use(&1u8).unwrap();
    assert_eq!(
        no_guard.open_single_use::<u8>(&v).unwrap_err().kind(),
        ErrorKind::Replayed
    );
}

#[test]
fn superseded_values_are_refused_after_the_grace_and_reported() {
    let (b, clock) = setup();
    let c = b
        .replay_guard(Arc::new(MemoryReplayGuard::new(100)))
        .build()
        .unwrap();
    let grace = secs(c.lifetime().superseded_grace);
    let v0 = c.seal(&1u8).unwrap();
    clock.advance(Duration::minutes(6));
    let opened = c.open::<u8>(&v0).unwrap();
    assert!(opened.reseal_due().is_some());
    let v1 = c.seal_session(&opened.meta, &opened.data).unwrap();
    // A request already in flight with the old value is still served.
    clock.advance(Duration::seconds(grace - 1));
    assert!(c.open::<u8>(&v0).is_ok());
    assert!(c.open::<u8>(&v1).is_ok());
    clock.advance(Duration::seconds(1));
    let err = c.open::<u8>(&v0).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Replayed);
    assert_eq!(
        err.session_id(),
        Some(&opened.meta.id()),
        "reported so the app can end the session"
    );
    // Two copies are in use: the whole session ends, the re-sealed copy too.
    assert_eq!(c.open::<u8>(&v1).unwrap_err().kind(), ErrorKind::Replayed);
}

/// A cookie copied and used by a thief, the victim also still using it:
/// whichever copy is re-sealed first, the other one's return after the
/// grace ends the session for both. 0.1 refused only the older copy, so a
/// thief who got the re-seal first kept the session and the victim was
/// signed out.
#[test]
fn a_copied_cookie_ends_the_session_for_thief_and_victim() {
    for thief_first in [true, false] {
        let (b, clock) = setup();
        let guard = Arc::new(MemoryReplayGuard::new(100));
        let c = b.replay_guard(guard.clone()).build().unwrap();
        let grace = secs(c.lifetime().superseded_grace);
        let stolen = c.seal(&1u8).unwrap();
        clock.advance(Duration::minutes(6));
        // The first user of the copy gets the renewal.
        let first = c.open::<u8>(&stolen).unwrap();
        let renewed = c.seal_session(&first.meta, &first.data).unwrap();
        clock.advance(Duration::seconds(grace));
        // The other comes back with the superseded value: refused, reported.
        let err = c.open::<u8>(&stolen).unwrap_err();
        assert_eq!(
            err.kind(),
            ErrorKind::Replayed,
            "thief first: {thief_first}"
        );
        assert_eq!(err.session_id(), Some(&first.meta.id()));
        assert_eq!(
            sealed_session::ReplayGuard::session(
                &*guard,
                &first.meta.id(),
                sealed_session::Clock::now(&clock)
            ),
            sealed_session::SessionRecord::Ended
        );
        // And the renewed copy, whoever holds it, stops opening.
        assert_eq!(
            c.open::<u8>(&renewed).unwrap_err().kind(),
            ErrorKind::Replayed
        );
        // Even once re-sealed again by someone holding the renewed value.
        assert_eq!(
            c.open::<u8>(&renewed).unwrap_err().kind(),
            ErrorKind::Replayed
        );
    }
}

/// A value two re-seals behind is judged by the re-seal that superseded it,
/// not by the newest one. Before, a session re-sealed within the last grace
/// let every older value back in (found by tests/fleet/run.py: 77 of 143
/// replays of superseded values opened on a two-instance fleet).
#[test]
fn a_value_two_reseals_behind_is_refused_while_the_newest_is_in_its_grace() {
    let (b, clock) = setup();
    let c = b
        .replay_guard(Arc::new(MemoryReplayGuard::new(100)))
        .build()
        .unwrap();
    let v0 = c.seal(&1u8).unwrap();
    clock.advance(Duration::minutes(6));
    let opened = c.open::<u8>(&v0).unwrap();
    let v1 = c.seal_session(&opened.meta, &opened.data).unwrap();
    clock.advance(Duration::minutes(6));
    let opened = c.open::<u8>(&v1).unwrap();
    assert!(opened.reseal_due().is_some());
    let v2 = c.seal_session(&opened.meta, &opened.data).unwrap();
    // v1 was superseded a second ago: still served. v0 six minutes ago.
    clock.advance(Duration::seconds(1));
    assert!(c.open::<u8>(&v1).is_ok());
    assert_eq!(c.open::<u8>(&v0).unwrap_err().kind(), ErrorKind::Replayed);
    assert_eq!(c.open::<u8>(&v2).unwrap_err().kind(), ErrorKind::Replayed);
}

/// Re-sealed on every request (a handler that writes each time): a value
/// three re-seals behind is refused at once, even when all three happened
/// within the grace; one or two behind are still served within it. The
/// fleet run re-seals on every request, and a replay of a value dozens of
/// re-seals old opened there while the newest re-seal was in its grace.
#[test]
fn a_value_three_reseals_behind_is_refused_at_once() {
    let (b, clock) = setup();
    let c = b
        .replay_guard(Arc::new(MemoryReplayGuard::new(100)))
        .build()
        .unwrap();
    let mut values = vec![c.seal(&1u8).unwrap()];
    for _ in 0..3 {
        clock.advance(Duration::seconds(1));
        let opened = c.open::<u8>(values.last().unwrap()).unwrap();
        values.push(c.seal_session(&opened.meta, &opened.data).unwrap());
    }
    assert!(c.open::<u8>(&values[2]).is_ok(), "one behind, in the grace");
    assert!(c.open::<u8>(&values[1]).is_ok(), "two behind, in the grace");
    assert_eq!(
        c.open::<u8>(&values[0]).unwrap_err().kind(),
        ErrorKind::Replayed
    );
}

/// Both copies used within the grace (a thief quick enough, or two tabs of
/// the victim): neither is refused. Copies forked at the same generation
/// are not told apart (documented): a guard cannot tell a thief from the
/// victim's own concurrent requests there.
#[test]
fn copies_used_within_the_grace_are_both_served() {
    let (b, clock) = setup();
    let c = b
        .replay_guard(Arc::new(MemoryReplayGuard::new(100)))
        .build()
        .unwrap();
    let grace = secs(c.lifetime().superseded_grace);
    let copied = c.seal(&1u8).unwrap();
    clock.advance(Duration::minutes(6));
    let a = c.open::<u8>(&copied).unwrap();
    let renewed_a = c.seal_session(&a.meta, &a.data).unwrap();
    clock.advance(Duration::seconds(grace - 1));
    let b = c.open::<u8>(&copied).unwrap();
    let renewed_b = c.seal_session(&b.meta, &b.data).unwrap();
    clock.advance(Duration::seconds(2 * grace));
    assert!(c.open::<u8>(&renewed_a).is_ok());
    assert!(c.open::<u8>(&renewed_b).is_ok());
}

#[test]
fn replay_guard_from_many_threads_accepts_each_single_use_value_once() {
    let (b, _clock) = setup();
    let c = Arc::new(
        b.replay_guard(Arc::new(MemoryReplayGuard::new(10_000)))
            .build()
            .unwrap(),
    );
    let values: Arc<Vec<String>> = Arc::new(
        (0..200)
            .map(|i| c.seal_single_use(&(i as u32)).unwrap())
            .collect(),
    );
    let accepted = Arc::new(AtomicUsize::new(0));
    let replayed = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (c, values, accepted, replayed) = (
                c.clone(),
                values.clone(),
                accepted.clone(),
                replayed.clone(),
            );
            std::thread::spawn(move || {
                for v in values.iter() {
                    match c.open_single_use::<u32>(v) {
                        Ok(_) => accepted.fetch_add(1, Ordering::SeqCst),
                        Err(e) => {
                            assert_eq!(e.kind(), ErrorKind::Replayed);
                            replayed.fetch_add(1, Ordering::SeqCst)
                        }
                    };
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(accepted.load(Ordering::SeqCst), 200);
    assert_eq!(replayed.load(Ordering::SeqCst), 7 * 200);
}

#[test]
fn a_full_guard_refuses_single_use_values_rather_than_forget() {
    let (b, _clock) = setup();
    let c = b
        .replay_guard(Arc::new(MemoryReplayGuard::new(2)))
        .build()
        .unwrap();
    let vs: Vec<String> = (0..3)
        .map(|i| c.seal_single_use(&(i as u8)).unwrap())
        .collect();
    assert!(c.open_single_use::<u8>(&vs[0]).is_ok());
    assert!(c.open_single_use::<u8>(&vs[1]).is_ok());
    assert_eq!(
        c.open_single_use::<u8>(&vs[2]).unwrap_err().kind(),
        ErrorKind::StoreFull
    );
    assert_eq!(
        c.open_single_use::<u8>(&vs[0]).unwrap_err().kind(),
        ErrorKind::Replayed
    );
}

#[test]
fn a_shortened_configured_lifetime_applies_to_existing_sessions() {
    let (b, clock) = setup();
    let long = b.build().unwrap();
    let value = long.seal(&1u8).unwrap();
    let mut hour = Lifetime::default();
    hour.absolute = Duration::hours(1);
    let short = SessionCodec::builder(keys())
        .clock(Arc::new(clock.clone()))
        .lifetime(hour)
        .build()
        .unwrap();
    let opened = short.open::<u8>(&value).unwrap();
    assert_eq!(opened.reseal_due(), Some(ResealReason::Renewal));
    let resealed = short.seal_session(&opened.meta, &opened.data).unwrap();
    assert_eq!(
        long.open::<u8>(&resealed)
            .unwrap()
            .meta
            .expires()
            .unix_timestamp(),
        T0 + 3600
    );
    clock.set_unix(T0 + 3600);
    assert_eq!(
        short.open::<u8>(&value).unwrap_err().kind(),
        ErrorKind::Expired
    );
}

/// The attack of the security issue: an app keeps an unverified e-mail
/// address in the session and mails `seal_single_use(&email)` as a
/// verification link. A user who hands in their own session cookie value as
/// the link token must not get the address marked verified. 0.1 opened it.
#[test]
fn a_session_cookie_is_no_single_use_token_and_back() {
    let (b, _) = setup();
    let c = b
        .replay_guard(Arc::new(MemoryReplayGuard::new(16)))
        .build()
        .unwrap();
    let unverified = "mallory@example.com".to_owned();
    let own_cookie = c.seal(&unverified).unwrap();
    let err = c.open_single_use::<String>(&own_cookie).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongKind);
    assert!(err.kind().is_refusal());

    // The other direction: a link token is no session.
    let link = c.seal_single_use(&unverified).unwrap();
    assert_eq!(
        c.open::<String>(&link).unwrap_err().kind(),
        ErrorKind::WrongKind
    );
    assert_eq!(c.open_raw(&link).unwrap_err().kind(), ErrorKind::WrongKind);
    // Refusing the wrong kind does not consume the token.
    assert_eq!(c.open_single_use::<String>(&link).unwrap().data, unverified);
    assert_eq!(
        c.open_single_use::<String>(&link).unwrap_err().kind(),
        ErrorKind::Replayed
    );
}
