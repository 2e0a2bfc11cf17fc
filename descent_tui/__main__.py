from descent_tui.cli import main

raise SystemExit(main())
