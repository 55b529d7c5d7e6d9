use super::*;
use crate::domain::CircuitRef;
use crate::domain::rollback::RollbackMethod;

const MINIMAL: &str = r#"
[azure]
subscription_id = "6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60"

[workspaces.dev]
resource_group = "rg-ml-dev"
name = "mlw-forecast-dev"
[workspaces.test]
resource_group = "rg-ml-test"
name = "mlw-forecast-test"
[workspaces.prod]
resource_group = "rg-ml-prod"
name = "mlw-forecast-prod"

[registry]
resource_group = "rg-ml-shared"
name = "mlr-forecast"

[devops]
organization = "contoso"
project = "forecasting"
release_definition_id = 12
config_repository = "forecast-config"

[monitor]
log_analytics_workspace_id = "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b"
"#;

#[test]
fn minimal_config_gets_documented_defaults() {
    let s = Settings::parse(MINIMAL, "t.toml").unwrap();
    assert_eq!(
        s.azure.arm_endpoint.as_str(),
        "https://management.azure.com"
    );
    assert_eq!(s.azure.ml_api_version, "2025-06-01");
    assert_eq!(s.policy.prod_min_approvers, 2);
    assert!(s.policy.forbid_self_approval && s.policy.require_passing_tests);
    assert_eq!(s.policy.rollback_sla_minutes, 15);
    assert_eq!(s.policy.default_rollback_method, RollbackMethod::Redeploy);
    assert_eq!(s.auth.method, AuthMethod::AzureCli);
    assert_eq!(s.auth.devops_pat_env, "AZURE_DEVOPS_EXT_PAT");
    let c: CircuitRef = "PLANT001/CIRCUIT01".parse().unwrap();
    assert_eq!(s.naming.endpoint(&c), "batch-endpoint-plant001");
    assert_eq!(s.naming.deployment(&c), "deployment-circuit01");
    assert_eq!(s.naming.model(&c), "plant001-circuit01");
    assert_eq!(s.thresholds, Thresholds::default());
}

#[test]
fn unknown_key_is_named_with_its_line() {
    let text = format!("{MINIMAL}\n[policy]\nprod_min_aprovers = 3\n");
    let e = Settings::parse(&text, "t.toml").unwrap_err();
    let msg = e.to_string();
    assert!(msg.contains("prod_min_aprovers"), "{msg}");
    let line = text
        .lines()
        .position(|l| l.starts_with("prod_min_aprovers"))
        .unwrap()
        + 1;
    assert!(msg.starts_with(&format!("t.toml:{line}:")), "{msg}");
}

#[test]
fn bad_values_are_located() {
    let cases = [
        (
            "[auth]\nmethod = \"password\"\n",
            "unknown variant `password`",
        ),
        ("[naming]\nmodel = \"{plant}-{site}\"\n", "placeholder"),
        ("[naming]\nmodel = \"{plant}\"\n", "naming.model"),
        ("[policy]\nprod_min_approvers = 0\n", "at least 1"),
        (
            "[client]\nread_deadline_seconds = 0\n",
            "client.read_deadline_seconds must be at least 1",
        ),
        ("[thresholds]\npsi_warn = 0.5\n", "psi_warn"),
        ("[policy]\ndefault_rollback_method = \"yolo\"\n", "yolo"),
    ];
    for (extra, needle) in cases {
        let text = format!("{MINIMAL}\n{extra}");
        let msg = Settings::parse(&text, "t.toml").unwrap_err().to_string();
        assert!(msg.contains(needle), "{extra:?} -> {msg}");
        let first_line = MINIMAL.lines().count() + 2;
        let line: usize = msg.split(':').nth(1).unwrap().parse().unwrap();
        assert!(line >= first_line, "{extra:?} located at {line}: {msg}");
    }
    let bad_guid = MINIMAL.replace("6fd1c7a2-1f0e-4c59-9a3b-0d2b1c4e5f60", "my-sub");
    let msg = Settings::parse(&bad_guid, "t.toml")
        .unwrap_err()
        .to_string();
    assert!(
        msg.contains("GUID") && msg.starts_with("t.toml:3:"),
        "{msg}"
    );
}

#[test]
fn monitoring_reads_a_workspace_or_an_app_never_both_nor_neither() {
    let s = Settings::parse(MINIMAL, "t.toml").unwrap();
    match s.monitor.source() {
        Some(MonitorSource::Workspace { id, endpoint }) => {
            assert_eq!(id.0, "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b");
            assert_eq!(endpoint.as_str(), "https://api.loganalytics.io");
        }
        other => panic!("{other:?}"),
    }
    let app = MINIMAL.replace("log_analytics_workspace_id", "application_insights_app_id");
    let s = Settings::parse(&app, "t.toml").unwrap();
    match s.monitor.source() {
        Some(MonitorSource::AppInsights { id, endpoint }) => {
            assert_eq!(id.0, "0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b");
            assert_eq!(endpoint.as_str(), "https://api.applicationinsights.io");
        }
        other => panic!("{other:?}"),
    }
    let both = format!(
        "{MINIMAL}application_insights_app_id = \"1b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b\"\n"
    );
    let msg = Settings::parse(&both, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("not both"), "{msg}");
    let line = both.lines().count();
    assert!(msg.starts_with(&format!("t.toml:{line}:")), "{msg}");
    let neither = MINIMAL.replace(
        "log_analytics_workspace_id = \"0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b\"",
        "",
    );
    let msg = Settings::parse(&neither, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("application_insights_app_id"), "{msg}");
    let bad = app.replace("0b9c1f7e-3a2d-4e5f-8a6b-7c8d9e0f1a2b", "my-app");
    assert!(
        Settings::parse(&bad, "t.toml")
            .unwrap_err()
            .to_string()
            .contains("GUID")
    );
}

#[test]
fn missing_section_is_an_error() {
    let text = MINIMAL.replace("[registry]", "[registr]");
    let msg = Settings::parse(&text, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("registr"), "{msg}");
}

#[test]
fn the_documented_example_parses() {
    let s = Settings::parse(
        include_str!("../../../../configs/relcon.example.toml"),
        "example",
    )
    .unwrap();
    assert_eq!(s.devops.release_definition_id, 1);
    assert_eq!(s.devops.flavor, ReleaseFlavor::Classic);
    // The YAML table documents the seed's names, which are also the defaults.
    assert_eq!(s.devops.yaml, YamlPipelines::default());
    assert_eq!(s.auth.method, AuthMethod::AzureCli);
    assert_eq!(s.thresholds, Thresholds::default());
}

#[test]
fn the_yaml_flavour_defaults_to_the_seeds_pipelines_and_takes_ids_or_names() {
    let s = Settings::parse(MINIMAL, "t.toml").unwrap();
    assert_eq!(s.devops.flavor, ReleaseFlavor::Classic);
    let yaml = MINIMAL
        .replace("release_definition_id = 12\n", "flavor = \"yaml\"\n")
        .replace(
            "[monitor]",
            "[devops.yaml]\nprod_pipeline = 42\nprod_environment = \"prod-deployment\"\n\n[monitor]",
        );
    let s = Settings::parse(&yaml, "t.toml").unwrap();
    assert_eq!(s.devops.flavor, ReleaseFlavor::Yaml);
    let y = &s.devops.yaml;
    assert_eq!(y.prod_pipeline, PipelineRef::Id(42));
    assert!(y.prod_pipeline.matches(42, "anything"));
    assert_eq!(
        y.rollback_pipeline,
        PipelineRef::Name("rollback-pipeline".into())
    );
    assert!(y.rollback_pipeline.matches(7, "Rollback-Pipeline"));
    assert_eq!(
        (y.prod_stage.as_str(), y.prod_environment.as_str()),
        ("DeployToProduction", "prod-deployment")
    );
    assert_eq!(y.training_resource, "training");

    // Unknown keys stay errors, with their line.
    let typo = yaml.replace("prod_pipeline = 42", "prod_pipline = 42");
    let msg = Settings::parse(&typo, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("prod_pipline"), "{msg}");
    let flavour = yaml.replace("flavor = \"yaml\"", "flavor = \"yml\"");
    let msg = Settings::parse(&flavour, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("yml"), "{msg}");
    let empty = yaml.replace("prod_pipeline = 42", "prod_stage = \"\"");
    let msg = Settings::parse(&empty, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("devops.yaml.prod_stage"), "{msg}");
    // Classic still needs its release definition.
    let classic = MINIMAL.replace("release_definition_id = 12\n", "");
    let msg = Settings::parse(&classic, "t.toml").unwrap_err().to_string();
    assert!(msg.contains("release_definition_id"), "{msg}");
}

#[test]
fn line_col_counts_characters() {
    assert_eq!(line_col("ab\ncé d", 7), (2, 4));
    assert_eq!(line_col("", 0), (1, 1));
}
