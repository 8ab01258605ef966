//! ykmfa: AWS IAM MFA on hardware tokens.
