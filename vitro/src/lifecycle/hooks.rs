//! Running hooks: plugin-level hooks, the barrier phases (every device of a phase at once, within
//! each plugin's concurrency limit) and the release.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use tokio::sync::Semaphore;
use vitro_protocol::methods::{DeviceHook, PluginRelease};
use vitro_protocol::types::{Capability, DeploymentStatus, DeviceHookParams, ReleaseParams, SetupParams};
use vitro_protocol::ErrorKind;
use vitro_rpc::CallError;

use super::phases::{self, timeout_for, Phase};
use super::report::{HookOutcome, HookRun, PhaseTotal};

use super::{Deployment, Failure};

impl<'a> Deployment<'a> {
    pub(super) async fn plugin_hooks<M>(&self, capability: Capability, phase: &str) -> Result<(), Failure>
    where
        M: vitro_protocol::RequestMethod<Params = SetupParams>,
    {
        let calls = self.with_capability(capability).into_iter().map(|index| async move {
            let params = SetupParams {
                options: self.options_for(index),
                console_log_dir: self.options.log_dir().cloned(),
            };
            (index, self.plugins[index].request::<M>(&params, Some(self.plugin_hook_timeout())).await)
        });
        for (index, result) in join_all(calls).await {
            if let Err(e) = result {
                let hint =
                    if e.kind() == ErrorKind::Timeout { " (--plugin-hook-timeout changes that)" } else { "" };
                return Err(Failure::new(phase, format!("plugin {}: {e}{hint}", self.plugin_name(index))));
            }
        }
        Ok(())
    }

    pub(super) fn semaphores(&self) -> Vec<Option<Arc<Semaphore>>> {
        self.plugins
            .iter()
            .map(|p| p.info().max_concurrency.map(|n| Arc::new(Semaphore::new(n.max(1) as usize))))
            .collect()
    }

    /// Runs `phase` on every device that implements its hook, all at once, and waits for all.
    pub(super) async fn run_phase(&mut self, phase: &Phase) -> Result<(), Failure> {
        self.enter(phase.name);
        let started = Instant::now();
        let outcomes = self.call_hooks(phase, true).await;
        let mut tracker = self.tracker();
        tracker.finished.clear();
        if !outcomes.is_empty() {
            tracker.totals.push(PhaseTotal::new(phase.name, self.progress.started(), started));
        }
        drop(tracker);
        let mut failures = Vec::new();
        for (index, run, result) in outcomes {
            let device = &mut self.devices[index];
            device.report.record(run);
            if let Err(message) = result {
                failures.push(format!(
                    "{} (plugin {}): {message}",
                    device.description.name, device.report.plugin
                ));
            }
        }
        match failures.len() {
            0 => Ok(()),
            1 => Err(Failure::new(phase.name, format!("{} failed: {}", phase.name, failures[0]))),
            n => Err(Failure::new(
                phase.name,
                format!("{} failed: {} (and {} more)", phase.name, failures[0], n - 1),
            )),
        }
    }

    /// Runs `phase`'s hook on every device that has one, all at once; `show` puts them on the
    /// progress view (failures always are).
    pub(super) async fn call_hooks(
        &self,
        phase: &Phase,
        show: bool,
    ) -> Vec<(usize, HookRun, Result<(), String>)> {
        let semaphores = self.semaphores();
        let hooks: Vec<_> = self
            .devices
            .iter()
            .enumerate()
            .filter_map(|(index, d)| Some((index, d, phase.hook_for(d.description.role, &d.hooks)?)))
            .collect();
        if show {
            self.progress.stage(phase.name, hooks.len());
        }
        let calls = hooks.into_iter().map(|(index, device, hook)| {
            let semaphore = semaphores[device.plugin].clone();
            async move {
                let _permit = match &semaphore {
                    Some(s) => s.acquire().await.ok(),
                    None => None,
                };
                let name = &device.description.name;
                let started = Instant::now();
                if show {
                    self.progress.hook_started(name, phase.name);
                    self.tracker().running.insert(index, started);
                }
                let timeout = timeout_for(phase, hook, &device.description.config);
                let params = DeviceHookParams { device: name.clone(), hook, env_req: None };
                let result = self.plugins[device.plugin]
                    .request::<DeviceHook>(&params, Some(timeout))
                    .await
                    .map(|_| ())
                    .map_err(|e| describe_hook_error(phase, timeout, &e));
                let error = result.as_ref().err().map(String::as_str);
                let outcome = if error.is_some() { HookOutcome::Failed } else { HookOutcome::Passed };
                let run = HookRun::new(phase.name, self.progress.started(), started, outcome, error);
                if show {
                    let mut tracker = self.tracker();
                    tracker.running.remove(&index);
                    tracker.finished.push((index, run.clone()));
                }
                if show || error.is_some() {
                    self.progress.hook_finished(name, phase.name, started.elapsed(), error);
                }
                (index, run, result)
            }
        });
        join_all(calls).await
    }

    /// Shuts every registered device down (its report gets the hook), then tells every plugin
    /// how it went.
    pub(super) async fn release(&mut self, status: DeploymentStatus, error: Option<String>) {
        for (index, run, result) in self.call_hooks(&phases::SHUTDOWN, false).await {
            if let Err(message) = result {
                let message = self.secrets.scrub(&message);
                tracing::warn!("shutting down {} failed: {message}", self.devices[index].description.name);
            }
            self.devices[index].report.hooks.push(run);
        }
        let this = &*self;
        let params = ReleaseParams { status, error };
        let calls = this.with_capability(Capability::Release).into_iter().map(|index| {
            let params = &params;
            async move {
                (
                    index,
                    this.plugins[index]
                        .request::<PluginRelease>(params, Some(this.plugin_hook_timeout()))
                        .await,
                )
            }
        });
        for (index, result) in join_all(calls).await {
            if let Err(e) = result {
                tracing::warn!("plugin {} failed to release: {e}", this.plugin_name(index));
            }
        }
    }
}

fn describe_hook_error(phase: &Phase, timeout: Duration, error: &CallError) -> String {
    match error {
        CallError::Local(e) if e.kind() == ErrorKind::Timeout => {
            format!(
                "{} did not finish within {:?} (set vitro_timeouts in its config to change that)",
                phase.name, timeout
            )
        }
        other => other.to_string(),
    }
}
