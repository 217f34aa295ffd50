//! Who holds a board: user, host, the `vitro` process and, in CI, the job's URL.

use serde::{Deserialize, Serialize};

/// A lease holder or waiter, as recorded in the store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// The login name.
    pub user: String,
    /// The host name.
    pub host: String,
    /// The `vitro` process (the plugin's parent).
    pub pid: u32,
    /// The CI job's web page, from the common CI variables.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_job: Option<String>,
}

impl Holder {
    /// This process's holder: its parent is the `vitro` that runs the job.
    pub fn current() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self {
            user: var("USER").or_else(|| var("LOGNAME")).unwrap_or_else(login_name),
            host: host_name(),
            pid: std::os::unix::process::parent_id(),
            ci_job: ci_job_url(&var),
        }
    }
}

impl std::fmt::Display for Holder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{} (pid {}", self.user, self.host, self.pid)?;
        if let Some(url) = &self.ci_job {
            write!(f, ", {url}")?;
        }
        write!(f, ")")
    }
}

/// The job's URL as GitHub Actions, GitLab CI, Jenkins, Buildkite or CircleCI set it.
fn ci_job_url(var: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    if let (Some(server), Some(repo), Some(run)) =
        (var("GITHUB_SERVER_URL"), var("GITHUB_REPOSITORY"), var("GITHUB_RUN_ID"))
    {
        return Some(format!("{server}/{repo}/actions/runs/{run}"));
    }
    ["CI_JOB_URL", "BUILD_URL", "BUILDKITE_BUILD_URL", "CIRCLE_BUILD_URL"].iter().find_map(|name| var(name))
}

fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or fails.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok && end > 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown-host".to_owned()
    }
}

fn login_name() -> String {
    // SAFETY: getuid cannot fail.
    format!("uid{}", unsafe { libc::getuid() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ci_job_comes_from_the_ci_variables() {
        let github = |name: &str| {
            let value = match name {
                "GITHUB_SERVER_URL" => "https://github.example",
                "GITHUB_REPOSITORY" => "lab/firmware",
                "GITHUB_RUN_ID" => "42",
                _ => return None,
            };
            Some(value.to_owned())
        };
        assert_eq!(
            ci_job_url(&github).as_deref(),
            Some("https://github.example/lab/firmware/actions/runs/42")
        );
        let jenkins = |name: &str| (name == "BUILD_URL").then(|| "https://ci.example/job/7/".to_owned());
        assert_eq!(ci_job_url(&jenkins).as_deref(), Some("https://ci.example/job/7/"));
        assert_eq!(ci_job_url(&|_: &str| None), None);
    }
}
