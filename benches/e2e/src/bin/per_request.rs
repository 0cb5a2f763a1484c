//! `per_request SYSTEM ROUTE N` (or `per_request core OP N`): sets the
//! system up, then makes N in-process requests to ROUTE (or N core
//! operations). Run under callgrind with N and with 0 by `callgrind.py`:
//! the difference over N is the instructions per request, which do not
//! move with the machine's load as times do.

use sealed_session_e2e::in_process::{caller, core_op};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [system, route, n] = args.as_slice() else {
        eprintln!("usage: per_request SYSTEM ROUTE N | per_request core open|seal N");
        std::process::exit(2);
    };
    let n: u64 = n.parse().expect("N is a number");
    if system == "core" {
        let mut op = core_op(route);
        for _ in 0..n {
            op();
        }
        return;
    }
    let mut call = caller(system);
    for _ in 0..n {
        assert_eq!(call(route), 200);
    }
}
