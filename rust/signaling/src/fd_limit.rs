//! Each client holds a socket, and Linux's default open-file limit (often 1,024 soft) is below
//! the client counts a server is for: raise the soft limit as far as the hard one allows.

/// Raises the soft open-file limit to at least `wanted` (up to the hard limit; further when
/// the process may raise the hard limit too, as root can). Returns the limit now in force.
#[cfg(unix)]
#[allow(clippy::unnecessary_cast)] // rlim_t is narrower than u64 on some targets
pub fn raise(wanted: u64) -> std::io::Result<u64> {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    if lim.rlim_cur as u64 >= wanted {
        return Ok(lim.rlim_cur as u64);
    }
    if (lim.rlim_max as u64) < wanted {
        let raised = libc::rlimit { rlim_cur: wanted as libc::rlim_t, rlim_max: wanted as libc::rlim_t };
        // SAFETY: as above.
        if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } == 0 {
            return Ok(wanted);
        }
    }
    let raised = libc::rlimit { rlim_cur: lim.rlim_max.min(wanted as libc::rlim_t), rlim_max: lim.rlim_max };
    // SAFETY: as above.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(raised.rlim_cur as u64)
}

/// Elsewhere the limit is left as it is.
#[cfg(not(unix))]
pub fn raise(wanted: u64) -> std::io::Result<u64> {
    Ok(wanted)
}
