//! Expands the paths given on the command line into input files.

use std::path::{Path, PathBuf};

/// One file to read, and whether the user named it or a directory walk
/// found it.
#[derive(Clone, Debug)]
pub struct InputFile {
    pub path: PathBuf,
    /// Found by walking a directory: a file there that is not a capture is
    /// skipped quietly instead of counted as unreadable.
    pub from_walk: bool,
    pub size: u64,
}

/// Expands files and directories (walked recursively, in path order) into
/// input files. A `.logarchive` bundle is one input, not walked into.
/// Paths that cannot be read come back as errors with the reason, so the
/// scan can report them and go on.
pub fn expand_inputs(paths: &[PathBuf]) -> (Vec<InputFile>, Vec<(PathBuf, String)>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() && wiretrust_unifiedlog::is_logarchive(path) => {
                files.push(InputFile {
                    path: path.clone(),
                    from_walk: false,
                    size: 0,
                });
            }
            Ok(meta) if meta.is_dir() => walk(path, &mut files, &mut errors),
            Ok(meta) => files.push(InputFile {
                path: path.clone(),
                from_walk: false,
                size: meta.len(),
            }),
            Err(err) => errors.push((
                path.clone(),
                format!("cannot read {}: {err}", path.display()),
            )),
        }
    }
    (deduplicate(files), errors)
}

/// Drops files that another path (a symbolic link, or a file named twice)
/// already leads to, keeping the first.
fn deduplicate(files: Vec<InputFile>) -> Vec<InputFile> {
    let mut seen = std::collections::HashSet::new();
    files
        .into_iter()
        .filter(|file| {
            seen.insert(
                file.path
                    .canonicalize()
                    .unwrap_or_else(|_| file.path.clone()),
            )
        })
        .collect()
}

fn walk(root: &Path, files: &mut Vec<InputFile>, errors: &mut Vec<(PathBuf, String)>) {
    let mut walker = walkdir::WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        match entry {
            Ok(entry) if entry.file_type().is_dir() && entry.depth() > 0 => {
                if wiretrust_unifiedlog::is_logarchive(entry.path()) {
                    walker.skip_current_dir();
                    files.push(InputFile {
                        path: entry.into_path(),
                        from_walk: true,
                        size: 0,
                    });
                }
            }
            Ok(entry) if entry.file_type().is_file() => {
                let size = entry.metadata().map_or(0, |m| m.len());
                files.push(InputFile {
                    path: entry.into_path(),
                    from_walk: true,
                    size,
                });
            }
            Ok(_) => {}
            Err(err) => {
                let path = err
                    .path()
                    .map_or_else(|| root.to_path_buf(), Path::to_path_buf);
                let reason = match err.io_error() {
                    Some(io) => format!("cannot read {}: {io}", path.display()),
                    None => format!("cannot walk {}: {err}", path.display()),
                };
                errors.push((path, reason));
            }
        }
    }
}
