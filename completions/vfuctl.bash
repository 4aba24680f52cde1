# bash completion for vfuctl                                -*- shell-script -*-
#
# Subcommand names come from "vfuctl --list-commands", so a new subcommand is
# completed as soon as it is in the table; its options are listed below.
# Stand-alone: needs bash only, not the bash-completion package.

_vfuctl_commands()
{
	"${COMP_WORDS[0]}" --list-commands 2>/dev/null ||
		command vfuctl --list-commands 2>/dev/null
}

# _vfuctl_words WORDS: offer those of WORDS that start with the current word
# (each after $pfx, the "--opt=" of a word bash did not split at "=").
_vfuctl_words()
{
	mapfile -t COMPREPLY < <(compgen -P "$pfx" -W "$1" -- "$cur")
}

_vfuctl()
{
	local cur prev cmd opts files=0 i pfx=
	COMPREPLY=()
	cur=${COMP_WORDS[COMP_CWORD]}
	prev=
	[ "$COMP_CWORD" -gt 0 ] && prev=${COMP_WORDS[COMP_CWORD - 1]}
	# "--peer=q": bash splits it at "=" (COMP_WORDBREAKS) into "--peer" "="
	# "q", or "--peer" "=" while the cursor is just after the "="; without
	# "=" in COMP_WORDBREAKS it stays one word.
	if [ "$cur" = = ] && [[ $prev == --* ]]; then
		cur=
	elif [ "$prev" = = ] && [ "$COMP_CWORD" -gt 1 ]; then
		prev=${COMP_WORDS[COMP_CWORD - 2]}
	elif [[ $cur == --*=* ]]; then
		prev=${cur%%=*}
		pfx=$prev=
		cur=${cur#*=}
	fi

	# The subcommand is the first word after vfuctl that is not an option.
	cmd=
	for ((i = 1; i < COMP_CWORD; i++)); do
		case ${COMP_WORDS[i]} in
		-*) ;;
		*) cmd=${COMP_WORDS[i]}; break ;;
		esac
	done

	case $cmd in
	'')
		case $cur in
		-*) _vfuctl_words '--help --version' ;;
		*) _vfuctl_words "help $(_vfuctl_commands)" ;;
		esac
		return 0
		;;
	help)
		_vfuctl_words "$(_vfuctl_commands)"
		return 0
		;;
	decode)
		case $prev in
		-o | --output) _vfuctl_words 'text json'; return 0 ;;
		--peer) _vfuctl_words 'auto spec libvfio-user qemu'; return 0 ;;
		--byte-order) _vfuctl_words 'le be'; return 0 ;;
		esac
		opts='-V -x -o --output --peer --byte-order --strict -h --help'
		files=1
		;;
	schema)
		case $prev in
		-o | --output) _vfuctl_words 'json lua dict'; return 0 ;;
		esac
		opts='-o --output -h --help'
		;;
	import)
		case $prev in
		-o | --output | --key) files=1 ;;
		--linktype) _vfuctl_words "$(seq 147 162)"; return 0 ;;
		--conn | --digest-every) return 0 ;;
		esac
		opts='-o --output --linktype --conn --digest-every --key -h --help'
		files=1
		;;
	verify)
		case $prev in
		--key) files=1 ;;
		esac
		opts='-q --quiet --key -h --help'
		files=1
		;;
	dissect)
		case $prev in
		-o | --output) _vfuctl_words 'text json jsonl chrome'; return 0 ;;
		-t) _vfuctl_words 'r a d'; return 0 ;;
		--dir) _vfuctl_words 'c2s s2c'; return 0 ;;
		--peer) _vfuctl_words 'auto spec libvfio-user qemu'; return 0 ;;
		--color | --colour) _vfuctl_words 'auto always never'; return 0 ;;
		--notes) _vfuctl_words 'once all'; return 0 ;;
		--cmd)
			# NAME[,NAME...]: complete the name after the last comma
			local done_=
			[[ $cur == *,* ]] && done_=${cur%,*},
			mapfile -t COMPREPLY < <(compgen -P "${pfx:-}$done_" -W 'VERSION
			    DMA_MAP DMA_UNMAP DEVICE_GET_INFO DEVICE_GET_REGION_INFO
			    DEVICE_GET_REGION_IO_FDS DEVICE_GET_IRQ_INFO
			    DEVICE_SET_IRQS REGION_READ REGION_WRITE DMA_READ
			    DMA_WRITE DEVICE_RESET DIRTY_PAGES REGION_WRITE_MULTI
			    DEVICE_FEATURE MIG_DATA_READ MIG_DATA_WRITE' \
			    -- "${cur##*,}")
			return 0
			;;
		-w) files=1 ;;
		-c | -Y | --filter | --conn) return 0 ;;
		esac
		opts='-V -x -o --output -t -c -Y --filter --cmd --conn --dir
		      --errors --strict -w --follow -l --notes --peer --color -h --help'
		files=1
		;;
	stats)
		case $prev in
		-o | --output) _vfuctl_words 'text json'; return 0 ;;
		--peer) _vfuctl_words 'auto spec libvfio-user qemu'; return 0 ;;
		--sparklines) _vfuctl_words 'auto always never'; return 0 ;;
		--svg) files=1 ;;
		esac
		opts='-o --output --sparklines --svg --peer -h --help'
		files=1
		;;
	record)
		case $prev in
		-w | -l | --listen | --connect | --key)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
			;;
		-c | -s | -Y | --filter | -C | -W | -G | --allow-uid) return 0 ;;
		--hash-dma) _vfuctl_words '64K 1M 16M 1G'; return 0 ;;
		esac
		opts='-l --listen --connect -w -v --verbose -c -s -Y --filter -C -W
		      -G --redact --no-irq-intercept --trap-mmap --hash-dma --key
		      --allow-uid --allow-any-uid -h --help'
		;;
	fuzz)
		case $prev in
		--connect | --seeds | -d | --findings)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
			;;
		-o | --output) _vfuctl_words 'text json'; return 0 ;;
		-t | --timeout) _vfuctl_words '500 1000 5000'; return 0 ;;
		--time) _vfuctl_words '10s 1m 10m 1h'; return 0 ;;
		--fresh) _vfuctl_words 'conn process'; return 0 ;;
		-n | --execs | --seed | --max-msgs) return 0 ;;
		esac
		opts='--connect --seeds -n --execs --time --seed -t --timeout
		      --max-msgs -d --findings --no-minimize --no-coverage
		      --fresh -o --output -q --quiet -h --help'
		;;
	replay)
		case $prev in
		--connect | --rules | --junit | -w)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
			;;
		-o | --output) _vfuctl_words 'text json'; return 0 ;;
		--peer) _vfuctl_words 'auto spec libvfio-user qemu'; return 0 ;;
		-t | --timeout) _vfuctl_words '1000 5000 30000'; return 0 ;;
		--ignore | --shift | --expect-digest) return 0 ;;
		esac
		opts='--connect --spawn-once -k --keep-going -t --timeout --ignore
		      --rules --shift --no-mig-forward --whole --digest --expect-digest -o
		      --output --junit --update -w --peer --check-dma -h --help'
		files=1
		;;
	client)
		case $prev in
		-f | --file)
			compopt -o filenames 2>/dev/null
			mapfile -t COMPREPLY < <(compgen -f -- "$cur")
			return 0
			;;
		-c | --command | --timeout | --max-fds | --max-xfer) return 0 ;;
		--dma-write-reply) _vfuctl_words 'libvfio-user spec qemu'; return 0 ;;
		esac
		opts='-c --command -f --file -k --keep-going --json --no-fd
		      --dma-write-reply --timeout --max-fds --max-xfer
		      --twin-socket --write-multiple -h --help'
		files=1
		;;
	info | regions | irqs | config | peek | poke)
		case $prev in
		--timeout | --max-fds | --max-xfer) return 0 ;;
		esac
		opts='--json --timeout --max-fds --max-xfer --twin-socket
		      --write-multiple -h --help'
		[ "$cmd" = poke ] && opts="$opts --posted"
		[ "$cmd" = config ] && opts="$opts -x -n -nn -F"
		files=1
		# peek/poke SOCKET REGION ...: the operand after the socket
		if [ "$cmd" = peek ] || [ "$cmd" = poke ]; then
			local n=0
			for ((i = i + 1; i < COMP_CWORD; i++)); do
				[[ ${COMP_WORDS[i]} == -* ]] || n=$((n + 1))
			done
			if [ "$n" -eq 1 ] && [[ $cur != -* ]]; then
				_vfuctl_words 'bar0 bar1 bar2 bar3 bar4 bar5 rom config vga'
				return 0
			fi
			[ "$n" -ge 2 ] && [[ $cur != -* ]] && return 0
		fi
		;;
	server)
		case $prev in
		--device | --socket-path | --replay | --rules) files=1 ;;
		--fd | --mode | --max-data-xfer-size | --allow-uid | --ignore | \
		    --conn | --window)
			return 0
			;;
		--handshake-timeout | --message-timeout)
			_vfuctl_words '0 1000 5000 30000'
			return 0
			;;
		esac
		opts='--socket-path --fd --device --replay --strict --conn --window
		    --ignore --rules
		    --once --mode --max-data-xfer-size --handshake-timeout
		    --message-timeout --allow-uid --allow-any-uid -v --verbose
		    --print-json -h --help'
		;;
	*)
		opts='-h --help'
		;;
	esac

	# Options; for commands that read files, file names otherwise.
	if [[ $cur != -* ]] && [ "$files" -eq 1 ]; then
		compopt -o filenames 2>/dev/null
		mapfile -t COMPREPLY < <(compgen -f -- "$cur")
	else
		_vfuctl_words "$opts"
	fi
	return 0
}

complete -F _vfuctl vfuctl
