//! Replies in each service's shape: ARM's `{"error": {code, message}}`, Azure ML's user
//! errors, DevOps' `{$id, message, typeName, typeKey, ...}`, Log Analytics' errors; and the
//! 401, 429 and injected 500/503 answers of each service.

use axum::http::StatusCode;
use chrono::Utc;
use serde_json::{Value, json};

use super::http::{Family, JSON};

/// A reply before the service's common headers are added.
#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub content_type: &'static str,
}

impl Reply {
    pub fn json(status: StatusCode, v: &Value) -> Reply {
        Reply::raw(status, v.to_string())
    }

    pub fn ok(v: &Value) -> Reply {
        Reply::json(StatusCode::OK, v)
    }

    pub fn raw(status: StatusCode, body: String) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body,
            content_type: JSON,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Reply {
        self.headers.push((name, value.into()));
        self
    }

    /// ARM's error shape: `{"error": {"code", "message", "details", "additionalInfo"}}`.
    pub fn arm_error(status: StatusCode, code: &str, message: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {"code": code, "message": message, "details": [], "additionalInfo": []}}),
        )
    }

    /// An Azure ML (MFE) user error: code `UserError` with an inner error code.
    pub fn ml_error(status: StatusCode, inner: &str, message: &str) -> Reply {
        Reply::json(
            status,
            &json!({"error": {
                "code": "UserError",
                "message": message,
                "details": [],
                "innerError": {"code": inner, "innerError": null},
                "additionalInfo": []
            }}),
        )
    }

    /// DevOps' error shape (`$id`, `message`, `typeName`, `typeKey`, `errorCode`, `eventId`).
    pub fn devops_error(status: StatusCode, type_key: &str, message: &str) -> Reply {
        let namespace = if type_key.starts_with("Git") || type_key.starts_with("Project") {
            "Microsoft.TeamFoundation.Git.Server"
        } else {
            "Microsoft.VisualStudio.Services.ReleaseManagement.Data.Exceptions"
        };
        Reply::json(
            status,
            &json!({
                "$id": "1",
                "innerException": null,
                "message": message,
                "typeName": format!("{namespace}.{type_key}, {namespace}"),
                "typeKey": type_key,
                "errorCode": 0,
                "eventId": 3000
            }),
        )
    }

    /// Log Analytics' error shape.
    pub fn la_error(status: StatusCode, code: &str, message: &str, inner: Option<Value>) -> Reply {
        let mut e = json!({"message": message, "code": code});
        if let Some(i) = inner {
            e["innererror"] = i;
        }
        Reply::json(status, &json!({ "error": e }))
    }

    /// The family's error shape for a status with a generic code.
    pub fn family_error(family: Family, status: StatusCode, code: &str, message: &str) -> Reply {
        match family {
            Family::Arm | Family::MlApi => Reply::arm_error(status, code, message),
            Family::DevOps | Family::Vsrm => Reply::devops_error(status, code, message),
            Family::La | Family::Ai => Reply::la_error(status, code, message, None),
        }
    }
}

pub fn unauthorized(family: Family, why: &str) -> Reply {
    let www = "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\"";
    let r = match family {
        Family::Arm | Family::MlApi => Reply::arm_error(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            &format!("Authentication failed. {why}"),
        ),
        Family::DevOps | Family::Vsrm => Reply::devops_error(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestException",
            &format!("TF400813: The user '' is not authorized to access this resource. {why}"),
        ),
        Family::La | Family::Ai => Reply::la_error(
            StatusCode::UNAUTHORIZED,
            "AuthorizationRequiredError",
            &format!("Valid authentication was not provided. {why}"),
            None,
        ),
    };
    r.header("www-authenticate", www)
}

pub fn throttled(family: Family, retry_after: u64) -> Reply {
    let r = match family {
        Family::Arm | Family::MlApi => Reply::arm_error(
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            &format!("Number of 'read' requests for subscription exceeded. Please try again after {retry_after} seconds."),
        )
        .header("x-ms-ratelimit-remaining-subscription-reads", "0"),
        Family::DevOps | Family::Vsrm => Reply::devops_error(
            StatusCode::TOO_MANY_REQUESTS,
            "RequestBlockedException",
            "TF400733: The request has been blocked because it exceeded the rate limit for your organization.",
        )
        .header("x-ratelimit-resource", "ATCPU")
        .header("x-ratelimit-delay", "1.0")
        .header("x-ratelimit-limit", "200")
        .header("x-ratelimit-remaining", "0")
        .header("x-ratelimit-reset", (Utc::now().timestamp() as u64 + retry_after).to_string()),
        Family::La | Family::Ai => Reply::la_error(StatusCode::TOO_MANY_REQUESTS, "ThrottledError", "Your request was throttled; please retry later.", None),
    };
    r.header("retry-after", retry_after.to_string())
}

pub fn fault_reply(family: Family, status: u16) -> Reply {
    if status == 503 {
        let r = match family {
            Family::Arm | Family::MlApi => Reply::arm_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "The service is temporarily unavailable. Please retry the request later.",
            ),
            Family::DevOps | Family::Vsrm => Reply::devops_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableException",
                "TF400898: The service is temporarily unavailable. Please try again later.",
            ),
            Family::La | Family::Ai => Reply::la_error(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailableError",
                "The service is temporarily unavailable.",
                None,
            ),
        };
        return r.header("retry-after", "1");
    }
    match family {
        Family::Arm | Family::MlApi => Reply::arm_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "Encountered internal server error. Please retry the request.",
        ),
        Family::DevOps | Family::Vsrm => Reply::devops_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerErrorException",
            "VS800075: An unexpected error occurred on the server.",
        ),
        Family::La | Family::Ai => Reply::la_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "An internal server error occurred.",
            None,
        ),
    }
}
