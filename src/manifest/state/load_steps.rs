//! `load_step_started`, `load_step_finished` and `load_failed`: the statements of a load.
//!
//! Rules:
//! * a step starts only once the batch is staged ([`ManifestRule::NotStaged`]), and the
//!   requestId it recorded is never replaced ([`ManifestRule::RequestIdReplaced`]): a resumed
//!   load resends the same one, so a statement that ran but whose answer was lost is not run
//!   twice;
//! * a step finishes only after it started ([`ManifestRule::StepNotStarted`]);
//! * a load failure is recorded only for a staged batch ([`ManifestRule::NotStaged`]) and
//!   leaves it staged: the next load resumes it at the step that failed.

use super::{BatchStatus, LoadStep, ManifestRule, ManifestState, live_batch, violation};
use crate::error::Result;
use crate::manifest::{Action, Commit};

/// `load_step_started`: the step's requestId, recorded before the statement is sent.
pub(super) fn load_step_started(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::LoadStepStarted {
        batch_id: id,
        step,
        request_id,
    } = action
    else {
        unreachable!("apply_action routes only load_step_started here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status == BatchStatus::Created {
        return Err(violation(
            commit,
            ManifestRule::NotStaged,
            format!("batch {id} is not staged"),
        ));
    }
    if let Some(recorded) = batch.load_steps.get(step)
        && recorded.request_id != *request_id
    {
        return Err(violation(
            commit,
            ManifestRule::RequestIdReplaced,
            format!(
                "batch {id} step {step} was started with requestId {}; a resume must resend it, not {request_id}",
                recorded.request_id
            ),
        ));
    }
    batch.load_steps.insert(
        step.clone(),
        LoadStep {
            request_id: request_id.clone(),
            statement_handle: None,
            result: None,
        },
    );
    Ok(())
}

/// `load_step_finished`: the statement's handle and Snowflake's figures.
pub(super) fn load_step_finished(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::LoadStepFinished {
        batch_id: id,
        step,
        statement_handle,
        result,
    } = action
    else {
        unreachable!("apply_action routes only load_step_finished here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    let Some(load_step) = batch.load_steps.get_mut(step) else {
        return Err(violation(
            commit,
            ManifestRule::StepNotStarted,
            format!("batch {id} step {step} never started"),
        ));
    };
    load_step.statement_handle = Some(statement_handle.clone());
    load_step.result = Some(result.clone());
    Ok(())
}

/// `load_failed`: the step and the error, kept until the batch loads.
pub(super) fn load_failed(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::LoadFailed {
        batch_id: id,
        step,
        error,
    } = action
    else {
        unreachable!("apply_action routes only load_failed here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    if batch.status == BatchStatus::Created {
        return Err(violation(
            commit,
            ManifestRule::NotStaged,
            format!("batch {id} is not staged"),
        ));
    }
    batch.last_load_error = Some(format!("{step}: {error}"));
    Ok(())
}
