//! Files and folders for the script's file builtins, with errors worded for people.

fn io_error(e: std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file or folder".to_string(),
        std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
        std::io::ErrorKind::AlreadyExists => "it already exists".to_string(),
        _ => {
            let text = e.to_string();
            // "No such file or directory (os error 2)" reads better without the number.
            text.split(" (os error").next().unwrap_or(&text).to_string()
        }
    }
}

pub fn read_file(path: &str) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(io_error)
}

pub fn write_file(path: &str, bytes: &[u8], append: bool) -> Result<(), String> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(path)
        .map_err(io_error)?;
    file.write_all(bytes).map_err(io_error)
}

/// The names in a folder, sorted.
pub fn list_dir(path: &str) -> Result<Vec<String>, String> {
    let mut names: Vec<String> = std::fs::read_dir(path)
        .map_err(io_error)?
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .collect();
    names.sort();
    Ok(names)
}

/// Creates a folder and any missing parents; fine if it exists.
pub fn make_dir(path: &str) -> Result<(), String> {
    std::fs::create_dir_all(path).map_err(io_error)
}

pub fn copy_file(from: &str, to: &str) -> Result<u64, String> {
    std::fs::copy(from, to).map_err(io_error)
}

pub fn remove_file(path: &str) -> Result<(), String> {
    std::fs::remove_file(path).map_err(io_error)
}

pub fn path_exists(path: &str) -> bool {
    std::path::Path::new(path).exists()
}

pub fn is_dir(path: &str) -> bool {
    std::path::Path::new(path).is_dir()
}

pub fn file_size(path: &str) -> Result<u64, String> {
    std::fs::metadata(path).map(|m| m.len()).map_err(io_error)
}
