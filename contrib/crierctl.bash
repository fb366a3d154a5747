# bash completion for crierctl(1)
_crierctl()
{
	local cur prev words cword verbs verb i
	_init_completion 2>/dev/null || {
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD-1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	}
	verbs=$(crierctl --help 2>/dev/null | awk '/^  [a-z]/ { print $1 }')
	verb=
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-s|--socket) ((i++)) ;;
		-*) ;;
		*) verb=${words[i]}; break ;;
		esac
	done
	case $prev in
	-s|--socket)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--state)
		COMPREPLY=($(compgen -W "scheduled sending sent retrying failed held cancelled missed uncertain" -- "$cur"))
		return ;;
	--channel)
		COMPREPLY=($(compgen -W "$(crierctl --json status 2>/dev/null | sed -n 's/.*"name": "\([^"]*\)".*"type".*/\1/p')" -- "$cur"))
		return ;;
	esac
	if [ -z "$verb" ]; then
		COMPREPLY=($(compgen -W "$verbs -s --socket --json --help --version" -- "$cur"))
		return
	fi
	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(crierctl --help 2>/dev/null | awk -v v="$verb" '$1 == v' | grep -o -- '--[a-z-]*' | sort -u) --json" -- "$cur"))
	fi
}
complete -F _crierctl crierctl
