"""Facts about a corpus that several tasks read (one module per corpus): RAVDESS's file names are
parsed by the RAVDESS-Song task and by EmoBox's RAVDESS (speech), so they live here, not in one
task's folder. A task folder imports what it needs; nothing here is a task."""
