from mycrmd.cli import main

raise SystemExit(main())
