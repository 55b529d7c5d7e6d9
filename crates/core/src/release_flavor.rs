//! Which release flavour the DevOps project uses (`[devops] flavor`), and for YAML pipelines,
//! which pipelines, stages and environments carry the models (`[devops.yaml]`). The defaults
//! are the seed's own names (its `.azuredevops/` pipelines), so a project that kept them needs
//! only `flavor = "yaml"`. Part of the relcon.toml format (`settings`); the Azure crate's YAML
//! adapter reads it, nothing above the release port does.

use std::fmt;

use serde::{Deserialize, Serialize};

/// How releases are driven.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReleaseFlavor {
    /// Classic release pipelines (`vsrm`, `release_definition_id`): environments Registry ->
    /// Test -> Production.
    #[default]
    Classic,
    /// YAML multi-stage pipelines whose deployment jobs target environments guarded by
    /// Approval checks (`[devops.yaml]`).
    Yaml,
}

impl ReleaseFlavor {
    pub fn as_str(self) -> &'static str {
        match self {
            ReleaseFlavor::Classic => "classic",
            ReleaseFlavor::Yaml => "yaml",
        }
    }
}

/// A pipeline by id (`42`) or by name (`"prod-deployment-pipeline"`, resolved with
/// Pipelines - List).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PipelineRef {
    Id(u32),
    Name(String),
}

impl fmt::Display for PipelineRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PipelineRef::Id(id) => write!(f, "pipeline {id}"),
            PipelineRef::Name(name) => f.write_str(name),
        }
    }
}

impl PipelineRef {
    /// Whether a pipeline with this id and name is the one meant (names case-insensitively,
    /// as Azure DevOps compares them).
    pub fn matches(&self, id: u32, name: &str) -> bool {
        match self {
            PipelineRef::Id(want) => *want == id,
            PipelineRef::Name(want) => want.eq_ignore_ascii_case(name),
        }
    }
}

fn name(s: &str) -> PipelineRef {
    PipelineRef::Name(s.to_owned())
}

/// `[devops.yaml]`: the seed's YAML flavour, mapped onto relcon's stages.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct YamlPipelines {
    /// The training pipeline: its run ids are the models' `build_id` tag.
    pub training_pipeline: PipelineRef,
    /// Promotion to the registry (one run per model in the seed).
    pub promotion_pipeline: PipelineRef,
    pub test_pipeline: PipelineRef,
    pub prod_pipeline: PipelineRef,
    /// The rollback pipeline (parameters `circuitIds`, `environment`, `rollbackType`,
    /// `specificDeployment`).
    pub rollback_pipeline: PipelineRef,
    /// The deployment stages, by their YAML names.
    pub registry_stage: String,
    pub test_stage: String,
    /// The Prod deployment stage: what a rollback re-runs.
    pub prod_stage: String,
    /// The environments each stage deploys to; their Approval checks are the approval rule.
    pub registry_environment: String,
    pub test_environment: String,
    pub prod_environment: String,
    /// Where the rollback pipeline deploys in Production (`${environment}-Rollback-Approval`).
    pub rollback_environment: String,
    /// The alias under which Test and Prod runs consume the training run as a pipeline
    /// resource (`resources.pipelines.<alias>`): how a run names the models it deployed.
    pub training_resource: String,
}

impl Default for YamlPipelines {
    fn default() -> Self {
        YamlPipelines {
            training_pipeline: name("training-pipeline"),
            promotion_pipeline: name("promote-single-model-pipeline"),
            test_pipeline: name("test-deployment-pipeline"),
            prod_pipeline: name("prod-deployment-pipeline"),
            rollback_pipeline: name("rollback-pipeline"),
            registry_stage: "ApprovePromotion".into(),
            test_stage: "DeployToTest".into(),
            prod_stage: "DeployToProduction".into(),
            registry_environment: "registry-promotion".into(),
            test_environment: "test-deployment".into(),
            prod_environment: "production-deployment".into(),
            rollback_environment: "Production-Rollback-Approval".into(),
            training_resource: "training".into(),
        }
    }
}

impl YamlPipelines {
    /// Keys that must not be empty, with their dotted names.
    pub(crate) fn problems(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for (key, value) in [
            ("registry_stage", &self.registry_stage),
            ("test_stage", &self.test_stage),
            ("prod_stage", &self.prod_stage),
            ("registry_environment", &self.registry_environment),
            ("test_environment", &self.test_environment),
            ("prod_environment", &self.prod_environment),
            ("rollback_environment", &self.rollback_environment),
            ("training_resource", &self.training_resource),
        ] {
            if value.trim().is_empty() {
                out.push((
                    format!("devops.yaml.{key}"),
                    format!("devops.yaml.{key} must not be empty"),
                ));
            }
        }
        for (key, pipeline) in [
            ("training_pipeline", &self.training_pipeline),
            ("promotion_pipeline", &self.promotion_pipeline),
            ("test_pipeline", &self.test_pipeline),
            ("prod_pipeline", &self.prod_pipeline),
            ("rollback_pipeline", &self.rollback_pipeline),
        ] {
            let empty = match pipeline {
                PipelineRef::Id(id) => *id == 0,
                PipelineRef::Name(n) => n.trim().is_empty(),
            };
            if empty {
                out.push((
                    format!("devops.yaml.{key}"),
                    format!("devops.yaml.{key} must be a pipeline id (1 or more) or a name"),
                ));
            }
        }
        out
    }
}
