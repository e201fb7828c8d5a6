"""Tests of lawfinder.priors; a package so its module names may repeat others."""
