//! Default location of the store, used when `--store` is not given.

use std::path::PathBuf;

/// File name of the store inside the data folder.
const FILE_NAME: &str = "store.sqlite";

/// Returns the default store path: on macOS
/// `~/Library/Application Support/wiretrust/store.sqlite`, elsewhere
/// `$XDG_DATA_HOME/wiretrust/store.sqlite`, falling back to
/// `~/.local/share/wiretrust/store.sqlite`. Returns `None` when neither
/// `XDG_DATA_HOME` (off macOS) nor `HOME` is set.
pub fn default_path() -> Option<PathBuf> {
    data_folder(
        cfg!(target_os = "macos"),
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
    .map(|folder| folder.join("wiretrust").join(FILE_NAME))
}

fn data_folder(macos: bool, xdg: Option<PathBuf>, home: Option<PathBuf>) -> Option<PathBuf> {
    if macos {
        return home.map(|home| home.join("Library/Application Support"));
    }
    // The XDG Base Directory specification ignores relative values.
    if let Some(xdg) = xdg.filter(|path| path.is_absolute()) {
        return Some(xdg);
    }
    home.map(|home| home.join(".local/share"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn xdg_data_home_wins_off_macos() {
        let folder = data_folder(false, Some("/data".into()), Some("/home/a".into()));
        assert_eq!(folder, Some(PathBuf::from("/data")));
    }

    #[test]
    fn relative_xdg_is_ignored() {
        let folder = data_folder(false, Some("data".into()), Some("/home/a".into()));
        assert_eq!(folder, Some(PathBuf::from("/home/a/.local/share")));
    }

    #[test]
    fn macos_uses_application_support() {
        let folder = data_folder(true, Some("/data".into()), Some("/Users/a".into()));
        assert_eq!(
            folder,
            Some(PathBuf::from("/Users/a/Library/Application Support"))
        );
    }

    #[test]
    fn no_home_gives_none() {
        assert_eq!(data_folder(false, None, None), None);
    }
}
