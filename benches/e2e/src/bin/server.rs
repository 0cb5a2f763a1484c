//! `server SYSTEM PORT`: one system's app on 127.0.0.1:PORT, on one thread
//! (a current-thread tokio runtime for axum, one actix-web worker), so the
//! load generator can have the other core. Prints `ready` once listening.

use std::io::Write as _;

use sealed_session_e2e::actix_apps::{self, Shared};
use sealed_session_e2e::{SYSTEMS, axum_apps};

fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(system), Some(port)) = (args.next(), args.next()) else {
        eprintln!(
            "usage: server SYSTEM PORT   (SYSTEM: {})",
            SYSTEMS.join(", ")
        );
        std::process::exit(2);
    };
    let port: u16 = port.parse().expect("PORT is a number");
    if let Some(app) = axum_apps::app(&system) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        return rt.block_on(async {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            ready();
            axum::serve(listener, app).await
        });
    }
    if actix_apps::is_actix(&system) {
        // One `HttpServer` per system: each app is its own type.
        macro_rules! serve {
            ($factory:expr) => {
                actix_web::rt::System::new().block_on(async move {
                    let server = actix_web::HttpServer::new($factory)
                        .workers(1)
                        .bind(("127.0.0.1", port))?;
                    ready();
                    server.run().await
                })
            };
        }
        return match Shared::new(&system) {
            Shared::None => serve!(actix_apps::none),
            Shared::Sealed(s) => serve!(move || actix_apps::sealed_session(&s)),
            Shared::Cookie(k) => serve!(move || actix_apps::actix_session(&k)),
        };
    }
    eprintln!("unknown system {system:?} (one of {})", SYSTEMS.join(", "));
    std::process::exit(2);
}

fn ready() {
    println!("ready");
    let _ = std::io::stdout().flush();
}
