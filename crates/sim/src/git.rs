//! The config repository through the DevOps Git API: each circuit's config file at any commit
//! of the training builds (the version trained at or before that commit), HEAD on `main`,
//! and the real service's errors for unknown repositories, commits and paths.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use super::configs;
use super::http::Req;
use super::paging::encode;
use super::reply::Reply;
use super::world::{World, sha40};
use crate::domain::CircuitRef;

pub fn handle(w: &World, req: &Req, rest: &[&str]) -> Reply {
    if req.method != Method::GET {
        return Reply::devops_error(
            StatusCode::METHOD_NOT_ALLOWED,
            "MethodNotAllowedException",
            &format!(
                "The requested resource does not support http method '{}'.",
                req.method
            ),
        );
    }
    match rest {
        [] => Reply::ok(&json!({"count": 1, "value": [repository(w, req)]})),
        [repo, tail @ ..] => {
            if !repo.eq_ignore_ascii_case(w.ids.repo) && !repo.eq_ignore_ascii_case(&w.ids.repo_id)
            {
                return Reply::devops_error(
                    StatusCode::NOT_FOUND,
                    "GitRepositoryNotFoundException",
                    &format!(
                        "TF401019: The Git repository with name or identifier {repo} does not exist or you do not have permissions for the operation you are attempting."
                    ),
                );
            }
            match tail {
                [] => Reply::ok(&repository(w, req)),
                [items] if items.eq_ignore_ascii_case("items") => item(w, req),
                _ => Reply::devops_error(
                    StatusCode::NOT_FOUND,
                    "ResourceNotFoundException",
                    &format!(
                        "VS800005: The requested resource '{}' does not exist.",
                        req.path
                    ),
                ),
            }
        }
    }
}

fn repository(w: &World, req: &Req) -> Value {
    let url = format!(
        "{}/devops/{}/{}/_apis/git/repositories/{}",
        req.base, w.ids.org, w.ids.project_id, w.ids.repo_id
    );
    json!({
        "id": w.ids.repo_id,
        "name": w.ids.repo,
        "url": url,
        "project": {"id": w.ids.project_id, "name": w.ids.project, "state": "wellFormed", "visibility": "private"},
        "defaultBranch": "refs/heads/main",
        "size": 4_813_312,
        "remoteUrl": format!("https://{}@dev.azure.com/{}/{}/_git/{}", w.ids.org, w.ids.org, w.ids.project, w.ids.repo),
        "webUrl": format!("{}/devops/{}/{}/_git/{}", req.base, w.ids.org, w.ids.project, w.ids.repo),
        "isDisabled": false,
    })
}

/// The newest commit of `main`.
fn head(w: &World) -> Option<usize> {
    w.builds.len().checked_sub(1)
}

fn item(w: &World, req: &Req) -> Reply {
    let Some(path) = req
        .q("path")
        .or_else(|| req.q("scopePath"))
        .filter(|p| !p.is_empty())
    else {
        return Reply::devops_error(
            StatusCode::BAD_REQUEST,
            "InvalidArgumentValueException",
            "The path parameter is required.",
        );
    };
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    let kind = req.q("versionDescriptor.versionType").unwrap_or("branch");
    let version = req.q("versionDescriptor.version").filter(|v| !v.is_empty());
    let build = match (kind.to_ascii_lowercase().as_str(), version) {
        ("commit", Some(c)) => match w.commit_index.get(&c.to_ascii_lowercase()) {
            Some(&b) => Some(b),
            None => {
                return Reply::devops_error(
                    StatusCode::NOT_FOUND,
                    "GitUnresolvableToCommitException",
                    &format!(
                        "TF401175: The version descriptor <Commit: {c}> could not be resolved to a version in the repository {}",
                        w.ids.repo
                    ),
                );
            }
        },
        ("branch", None) => head(w),
        ("branch", Some(b)) if matches!(b.trim_start_matches("refs/heads/"), "main") => head(w),
        (_, v) => {
            return Reply::devops_error(
                StatusCode::NOT_FOUND,
                "GitUnresolvableToCommitException",
                &format!(
                    "TF401175: The version descriptor <{kind}: {}> could not be resolved to a version in the repository {}",
                    v.unwrap_or(""),
                    w.ids.repo
                ),
            );
        }
    };
    let Some(b) = build else {
        return item_not_found(w, &path, "main");
    };
    let commit = &w.builds[b].commit;
    let Some(text) = file_at(w, &path, b) else {
        return item_not_found(w, &path, commit);
    };
    if req
        .q("$format")
        .is_some_and(|f| f.eq_ignore_ascii_case("text") || f.eq_ignore_ascii_case("octetStream"))
    {
        let mut r = Reply::raw(StatusCode::OK, text);
        r.content_type = "text/plain; charset=utf-8";
        return r;
    }
    let file_name = path.rsplit('/').next().unwrap_or_default().to_owned();
    let url = format!(
        "{}/devops/{}/{}/_apis/git/repositories/{}/items?path={}&versionType=Commit&version={commit}",
        req.base,
        w.ids.org,
        w.ids.project_id,
        w.ids.repo_id,
        encode(&path)
    );
    let mut v = json!({
        "objectId": sha40(&format!("blob:{text}")),
        "gitObjectType": "blob",
        "commitId": commit,
        "path": path,
        "contentMetadata": {"encoding": 65001, "contentType": "text/plain", "fileName": file_name, "extension": ".yaml"},
        "url": url,
        "_links": {"self": {"href": url}, "repository": {"href": format!("{}/devops/{}/{}/_apis/git/repositories/{}", req.base, w.ids.org, w.ids.project_id, w.ids.repo_id)}},
    });
    if !req
        .q("includeContent")
        .is_some_and(|v| v.eq_ignore_ascii_case("false"))
    {
        v["content"] = json!(text);
    }
    Reply::ok(&v)
}

fn item_not_found(w: &World, path: &str, commit: &str) -> Reply {
    Reply::devops_error(
        StatusCode::NOT_FOUND,
        "GitItemNotFoundException",
        &format!(
            "TF401174: The item '{path}' could not be found in the repository '{}' at the version specified by '<Commit: {commit}>' (resolved to commit '{commit}').",
            w.ids.repo
        ),
    )
}

/// `config/circuits/{PLANT}_{CIRCUIT}.yaml` at build `b`: the config of the circuit's newest
/// version trained at or before that commit. Earlier commits did not have the file.
pub fn file_at(w: &World, path: &str, b: usize) -> Option<String> {
    let name = path
        .strip_prefix("/config/circuits/")?
        .strip_suffix(".yaml")?;
    let r: CircuitRef = name.parse().ok()?;
    if r.file_name() != format!("{name}.yaml") {
        return None;
    }
    let c = w.circuit_index(&r)?;
    let v = w.circuits[c].versions.iter().rev().find(|v| v.build <= b)?;
    configs::variant_text(&w.fleet.circuits[c].head_text, &v.overrides)
}
