//! The actix-web CSRF middleware's check: the shared
//! `crate::csrf::check`, around actix's payload.

use std::rc::Rc;

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::http::header::HeaderValue;
use actix_web::{FromRequest, HttpMessage, HttpResponse, web};

use super::extract::MissingMiddleware;
use crate::csrf::MAX_FORM_BYTES;
use crate::csrf::check::CsrfStep;
use crate::session::handle::Session;

pub(super) async fn csrf<S, B, T>(
    service: Rc<S>,
    req: ServiceRequest,
    allow: bool,
) -> Result<ServiceResponse<EitherBody<B>>, actix_web::Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
    T: 'static,
{
    let Some(session) = req.extensions().get::<Session<T>>().cloned() else {
        return Err(MissingMiddleware(core::any::type_name::<T>()).into());
    };
    let header = |name: &str| req.headers().get(name).map(HeaderValue::as_bytes);
    let step = session.csrf_step(req.method().as_str(), header, allow);
    let req = match step {
        CsrfStep::Allow => req,
        CsrfStep::Refuse => {
            return Ok(req
                .into_response(HttpResponse::new(StatusCode::FORBIDDEN))
                .map_into_right_body());
        }
        CsrfStep::ReadForm => {
            let (http, mut payload) = req.into_parts();
            let body = web::Payload::from_request(&http, &mut payload).await?;
            let Ok(bytes) = body.to_bytes_limited(MAX_FORM_BYTES).await else {
                let res =
                    ServiceResponse::new(http, HttpResponse::new(StatusCode::PAYLOAD_TOO_LARGE));
                return Ok(res.map_into_right_body());
            };
            let bytes = bytes?;
            if !session.csrf_form_verifies(&bytes) {
                let res = ServiceResponse::new(http, HttpResponse::new(StatusCode::FORBIDDEN));
                return Ok(res.map_into_right_body());
            }
            ServiceRequest::from_parts(http, Payload::from(bytes))
        }
    };
    Ok(service.call(req).await?.map_into_left_body())
}
