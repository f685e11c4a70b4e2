# Copyright (c) cgankd_plugin contributors.
