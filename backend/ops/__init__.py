"""Operations: index setup and demo data, for the `tasklane` command."""
