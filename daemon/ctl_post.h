/*
 * The control socket's group commit of posts: ctl_post (ctl_verbs.h)
 * answers a post at once but holds its reply; the posts of one loop turn
 * are committed together and then every held reply is written.
 */
#ifndef CRIER_CTL_POST_H
#define CRIER_CTL_POST_H

/*
 * Commits the posts waiting for the turn's end now and releases their
 * replies (each an error if its post could not be stored). Any other verb
 * runs after it, so it sees every post asked for before it.
 */
void	 ctl_post_flush(void);

#endif
