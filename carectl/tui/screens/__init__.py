"""One module per screen; screens read through the app's Reader in workers, never on key presses."""
