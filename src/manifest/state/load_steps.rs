//! `load_step_started`, `load_step_running`, `load_step_finished` and `load_failed`: the
//! statements of a load, one attempt at a time.
//!
//! Rules:
//! * a step starts only once the batch is staged ([`ManifestRule::NotStaged`]);
//! * its recorded requestId is replaced, by a new attempt, only after a `load_failed` named it
//!   as definitely failed ([`ManifestRule::RequestIdReplaced`]). Snowflake documents
//!   `retry=true` for a request whose outcome is unknown: while it is unknown a resumed load
//!   resends the same id (a statement that ran but whose answer was lost is answered from
//!   Snowflake's history, not run twice); after a definite failure (422, 408, a cancel) a
//!   resend would only be answered with the same failure, so the next attempt takes a new id;
//! * a step's statement handle (`load_step_running`) and its answer (`load_step_finished`)
//!   are recorded only for a step that started ([`ManifestRule::StepNotStarted`]), the handle
//!   only for the attempt that is current (its requestId);
//! * a load failure is recorded only for a staged batch ([`ManifestRule::NotStaged`]) and
//!   leaves it staged: the next load resumes it at the step that failed. One that names a
//!   failed requestId names the step's current attempt ([`ManifestRule::StepNotStarted`]).

use super::{BatchStatus, LoadStep, ManifestRule, ManifestState, live_batch, violation};
use crate::error::Result;
use crate::manifest::{Action, Commit};

/// `load_step_started`: an attempt's requestId, recorded before the statement is sent.
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
        && !(recorded.failed && recorded.result.is_none())
    {
        return Err(violation(
            commit,
            ManifestRule::RequestIdReplaced,
            format!(
                "batch {id} step {step} was started with requestId {}, whose outcome is not known \
                 to have failed; a resume must resend it, not {request_id}",
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
            failed: false,
        },
    );
    Ok(())
}

/// `load_step_running`: the handle Snowflake runs the current attempt under.
pub(super) fn load_step_running(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::LoadStepRunning {
        batch_id: id,
        step,
        request_id,
        statement_handle,
    } = action
    else {
        unreachable!("apply_action routes only load_step_running here");
    };
    let batch = live_batch(&mut state.batches, commit, id)?;
    let current = batch
        .load_steps
        .get_mut(step)
        .filter(|s| s.request_id == *request_id);
    let Some(load_step) = current else {
        return Err(violation(
            commit,
            ManifestRule::StepNotStarted,
            format!("batch {id} step {step} has no attempt with requestId {request_id}"),
        ));
    };
    load_step.statement_handle = Some(statement_handle.clone());
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

/// `load_failed`: the step and the error, kept until the batch loads; with a failed requestId,
/// the step's current attempt is over and the next one takes a new id.
pub(super) fn load_failed(
    state: &mut ManifestState,
    commit: &Commit,
    action: &Action,
) -> Result<()> {
    let Action::LoadFailed {
        batch_id: id,
        step,
        error,
        failed_request_id,
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
    if let Some(failed) = failed_request_id {
        let current = batch
            .load_steps
            .get_mut(step)
            .filter(|s| s.request_id == *failed && s.result.is_none());
        let Some(load_step) = current else {
            return Err(violation(
                commit,
                ManifestRule::StepNotStarted,
                format!("batch {id} step {step} has no unfinished attempt with requestId {failed}"),
            ));
        };
        load_step.failed = true;
    }
    batch.last_load_error = Some(format!("{step}: {error}"));
    Ok(())
}
