"""Airflow DAG: the nightly intacct-snowflake run of each pipeline (one per Intacct company).

Copy this file into the DAGs folder and list the pipelines in PIPELINES. Each gets a DAG
`intacct_snowflake_<name>` with one task that runs `intacct-snowflake run` and turns its exit
code into what Airflow should do:

    exit code                                   Airflow
    0   success                                 success
    1   failed (message names what and where)   retry (the next attempt resumes)
    2   configuration, secret or key problem    fail at once, no retry (AirflowFailException)
    3   partial: some objects failed            fail this attempt (alerts), then retry
    4   another run holds the pipeline's lock   skipped (AirflowSkipException)
    130 interrupted (SIGTERM, worker shutdown)  retry
    other (killed by a signal, …)               retry

A BashOperator with `skip_on_exit_code=4` gets 0 and 4 right, but every other non-zero exit is
the same retryable failure to it, so a bad key would be retried for nothing; the task below
runs the command itself to tell 2 apart. The module imports without Airflow (the mapping is
plain Python, checked by the test suite); the DAGs are defined only where Airflow is present.
"""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta

# name -> (pipeline file, cron schedule in Pacific time). Stagger the start times: the companies' Intacct request slots are
# their own, but the warehouse and this worker are shared.
PIPELINES = {
    "acme": ("/etc/intacct-snowflake/acme.toml", "15 2 * * *"),
    "globex": ("/etc/intacct-snowflake/globex.toml", "45 2 * * *"),
}

BINARY = os.environ.get("INTACCT_SNOWFLAKE_BIN", "/usr/local/bin/intacct-snowflake")

SUCCESS, RETRY, FAIL, SKIP = "success", "retry", "fail", "skip"

EXIT_OUTCOMES = {
    0: SUCCESS,
    1: RETRY,
    2: FAIL,
    3: RETRY,
    4: SKIP,
    130: RETRY,
}


def outcome_of(exit_code: int) -> str:
    """What Airflow does with an exit code of `intacct-snowflake run` (see the module doc)."""
    return EXIT_OUTCOMES.get(exit_code, RETRY)


def run_pipeline(pipeline_file: str) -> None:
    """Runs `intacct-snowflake run` on one pipeline file and maps its exit code."""
    from airflow.exceptions import (  # only where Airflow runs the task
        AirflowException,
        AirflowFailException,
        AirflowSkipException,
    )

    # Logs go to the task log as JSON lines (stderr is not a terminal, so INFO and up).
    env = dict(os.environ, INTACCT_SNOWFLAKE_CONFIG=pipeline_file)
    code = subprocess.run([BINARY, "run", "--log-format", "json"], env=env, check=False).returncode
    outcome = outcome_of(code)
    if outcome == SUCCESS:
        return
    if outcome == SKIP:
        raise AirflowSkipException(f"exit 4: another run of {pipeline_file} holds its lock")
    if outcome == FAIL:
        raise AirflowFailException(
            f"exit {code}: configuration, secret or key problem in {pipeline_file}; not retried"
        )
    what = "partial success: some objects failed" if code == 3 else "failed"
    raise AirflowException(f"exit {code} ({what}); the retry resumes where this run stopped")


try:
    from airflow import DAG
    from airflow.operators.python import PythonOperator
except ImportError:  # imported outside Airflow (the tests): the mapping alone
    DAG = None

if DAG is not None:
    import pendulum  # an Airflow dependency

    for _name, (_pipeline, _schedule) in PIPELINES.items():
        with DAG(
            dag_id=f"intacct_snowflake_{_name}",
            # Sage Intacct's weekly maintenance is Friday 7:30 to 11:30 PM Pacific for US
            # tenants (see scripts/deploy/README.md): these times are Pacific, far from it.
            schedule=_schedule,
            # The schedules are read in this time zone.
            start_date=pendulum.datetime(2026, 1, 1, tz="America/Los_Angeles"),
            catchup=False,
            # Never two runs of one pipeline at once (the lock would stop the second anyway).
            max_active_runs=1,
            default_args={
                "retries": 2,
                "retry_delay": timedelta(minutes=15),
                # A hung run is stopped before its lock lease (6 h) runs out.
                "execution_timeout": timedelta(hours=5),
                # Set these (or an on_failure_callback) to be told of a failed or partial run.
                "email_on_failure": True,
                "email_on_retry": False,
            },
            tags=["intacct-snowflake"],
        ) as _dag:
            PythonOperator(
                task_id="run",
                python_callable=run_pipeline,
                op_kwargs={"pipeline_file": _pipeline},
            )
        globals()[_dag.dag_id] = _dag
